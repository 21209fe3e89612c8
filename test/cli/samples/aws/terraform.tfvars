note = "kept by terraform"
