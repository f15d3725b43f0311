# renditions: unset keeps the seed's single output (no RENDITIONS, EventBridge sends size); set, the function
# gets them as JSON and EventBridge sends size null so that they apply to every upload.

variables {
  lambda_s3_bucket = "artifacts"
  lambda_s3_key    = "imgresize/imgresize-0.1.0-arm64.zip"
}

run "unset_is_the_single_output" {
  command = plan

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "RENDITIONS")
    error_message = "Without renditions the function keeps its single default output."
  }

  assert {
    condition     = jsondecode(replace(replace(replace(replace(aws_cloudwatch_event_target.state_machine[0].input_transformer[0].input_template, "<bucket>", "\"b\""), "<key>", "\"k\""), "<objectSize>", "1"), "<sequencer>", "\"s\"")).size == 1000
    error_message = "Without renditions EventBridge sends the seed's size."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["DEST_KEY_PATTERN"] == "{dir}{stem}_{name}.{ext}"
    error_message = "The default pattern names the rendition (resized by default: output/b_resized.jpg)."
  }
}

run "a_set_reaches_the_function" {
  command = plan

  variables {
    renditions = [
      { name = "thumb", size = 320, fit = "cover", gravity = "attention", formats = ["webp", "jpeg"] },
      { name = "card", width = 640 },
      { name = "tile", width = 500, height = 400, fit = "contain", background = "#ffffff" },
    ]
  }

  assert {
    condition = jsondecode(aws_lambda_function.this.environment[0].variables["RENDITIONS"]) == [
      { name = "thumb", size = 320, fit = "cover", gravity = "attention", formats = ["webp", "jpeg"] },
      { name = "card", width = 640, fit = "inside", gravity = "centre", formats = ["same"] },
      { name = "tile", width = 500, height = 400, fit = "contain", gravity = "centre", formats = ["same"], background = "#ffffff" },
    ]
    error_message = "RENDITIONS is the set as JSON, defaults filled in, unset attributes left out."
  }

  assert {
    condition     = jsondecode(replace(replace(replace(replace(aws_cloudwatch_event_target.state_machine[0].input_transformer[0].input_template, "<bucket>", "\"b\""), "<key>", "\"k\""), "<objectSize>", "1"), "<sequencer>", "\"s\"")).size == null
    error_message = "With renditions EventBridge sends size null, so the renditions apply to uploads."
  }
}

run "a_rendition_without_a_box" {
  command = plan

  variables {
    renditions = [{ name = "thumb", fit = "cover", width = 320 }]
  }

  expect_failures = [var.renditions]
}

run "gravity_on_inside" {
  command = plan

  variables {
    renditions = [{ name = "thumb", size = 320, gravity = "attention" }]
  }

  expect_failures = [var.renditions]
}

run "an_unknown_format" {
  command = plan

  variables {
    renditions = [{ name = "thumb", size = 320, formats = ["tiff"] }]
  }

  expect_failures = [var.renditions]
}

run "two_renditions_without_name_in_the_pattern" {
  command = plan

  variables {
    renditions       = [{ name = "a", size = 320 }, { name = "b", size = 640 }]
    dest_key_pattern = "{dir}{stem}.{ext}"
  }

  expect_failures = [aws_lambda_function.this]
}
