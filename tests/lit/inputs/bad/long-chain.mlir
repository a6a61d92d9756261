module attributes {ckks.params = {log_n = 16, log_q = array<i64: 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30>, log_p = array<i64: 30>, log_scale = 30}, ckks.rotations = array<i64: 1, 2, 3>} {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %0 = ckks.encrypt %x {layout = !pack.vec<slots = 32768, size = 4, period = 4>} : (tensor<4xf32>) -> !ckks.ct<level = 55, log_scale = 30>
    %1 = ckks.rotate %0 {offset = 1} : !ckks.ct<level = 55, log_scale = 30>
    %2 = ckks.rotate %0 {offset = 2} : !ckks.ct<level = 55, log_scale = 30>
    %3 = ckks.rotate %0 {offset = 3} : !ckks.ct<level = 55, log_scale = 30>
    %4 = ckks.add %1, %2 : !ckks.ct<level = 55, log_scale = 30>
    %5 = ckks.add %4, %3 : !ckks.ct<level = 55, log_scale = 30>
    %6 = ckks.decrypt %5 {layout = !pack.vec<slots = 32768, size = 4, period = 4>} : (!ckks.ct<level = 55, log_scale = 30>) -> tensor<4xf32>
    return %6 : tensor<4xf32>
  }
}
