# Sample query: the scorer only reads which resource types it names: aws_efs_file_system
package sample
