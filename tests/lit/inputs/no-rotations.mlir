// The MNIST MLP's parameters and no rotations: its eval.keys hold no Galois
// keys (client-server-errors.test uses them for a missing-Galois-key error).
module attributes {ckks.params = {log_n = 13, log_q = array<i64: 29, 26, 26, 26, 26, 26>, log_p = array<i64: 29, 29>, log_scale = 26}, ckks.rotations = array<i64>} {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %0 = ckks.encrypt %x {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (tensor<4xf32>) -> !ckks.ct<level = 5, log_scale = 26>
    %1 = ckks.decrypt %0 {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (!ckks.ct<level = 5, log_scale = 26>) -> tensor<4xf32>
    return %1 : tensor<4xf32>
  }
}
