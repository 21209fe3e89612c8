variable "note" { type = string }
variable "directory" {
  type    = string
  default = "/tmp/threeport-terraform-sample"
}

output "note_digest" { value = fixture_file.note.sha256 }
