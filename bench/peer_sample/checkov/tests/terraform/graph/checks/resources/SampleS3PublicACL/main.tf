resource "aws_s3_bucket" "private" {
  bucket = "private-example"
}

resource "aws_s3_bucket" "public" {
  bucket = "public-example"
}

# The graph check labels the bucket; we report the ACL resource that configures it.
resource "aws_s3_bucket_acl" "public" {
  bucket = aws_s3_bucket.public.id
  acl    = "public-read"
}
