bucket_name = "threeport-sample"
