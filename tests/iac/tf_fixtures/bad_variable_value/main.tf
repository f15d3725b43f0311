# Must fail: the module rejects this input with its own validation message.
module "imgresize" {
  source = "../../../../terraform"

  name        = "imgresize"
  memory_size = 64
}
