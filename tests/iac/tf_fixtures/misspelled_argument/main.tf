# Must fail: an argument name aws_s3_bucket does not have (bucket_prefix, misspelled).
resource "aws_s3_bucket" "originals" {
  bucket_prefx = "imgresize-originals-"
}
