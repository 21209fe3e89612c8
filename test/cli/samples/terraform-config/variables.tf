variable "bucket_name" { type = string }
