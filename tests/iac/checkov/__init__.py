# Custom checkov policies for the imgresize module (loaded with --external-checks-dir).
