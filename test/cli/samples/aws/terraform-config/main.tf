terraform {
  required_providers {
    fixture = { source = "threeport/fixture" }
  }
}

resource "fixture_file" "note" {
  path    = "${var.directory}/note.txt"
  content = var.note
}
