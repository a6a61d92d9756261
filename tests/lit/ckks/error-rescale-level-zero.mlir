// Rescaling at level 0 means the program needs more levels than it has.
// RUN: not orion-opt %s 2>&1 | FileCheck %s

// CHECK: {{.*}}error-rescale-level-zero.mlir:11:5: error: 'ckks.rescale' op cannot rescale a ciphertext at level 0: the network needs more levels than the parameters give

module attributes {ckks.params = {log_n = 13, log_q = array<i64: 29, 26, 26, 26, 26, 26>, log_p = array<i64: 29, 29>, log_scale = 26}, ckks.rotations = array<i64>} {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %0 = ckks.encrypt %x {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (tensor<4xf32>) -> !ckks.ct<level = 0, log_scale = 26>
    %1 = ckks.mul %0, %0 : (!ckks.ct<level = 0, log_scale = 26>, !ckks.ct<level = 0, log_scale = 26>) -> !ckks.ct<level = 0, log_scale = 52, degree = 2>
    %2 = ckks.relinearize %1 : (!ckks.ct<level = 0, log_scale = 52, degree = 2>) -> !ckks.ct<level = 0, log_scale = 52>
    %3 = ckks.rescale %2 : (!ckks.ct<level = 0, log_scale = 52>) -> !ckks.ct<level = 0, log_scale = 26>
    %4 = ckks.decrypt %3 {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (!ckks.ct<level = 0, log_scale = 26>) -> tensor<4xf32>
    return %4 : tensor<4xf32>
  }
}
