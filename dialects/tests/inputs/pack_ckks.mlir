// A packed conv + activation lowered to the scheme level.
module attributes {ckks.params = {log_n = 14, log_p = array<i64: 50>, log_q = array<i64: 40, 30, 30, 30>, log_scale = 30, security = "128-bit classic"}, ckks.rotations = array<i64: -8, 1, 2, 4>} {
  func.func @packed(%v: !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}>) -> !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}> {
    %lt = pack.linear_transform %v {bsgs = {baby = 4, giant = 2}, diagonals = array<i64: -1, 0, 1>, weights = dense_resource<conv1_weight> : tensor<2x2x1x1xf32>} : !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}> loc("/conv1/Conv")
    %p = pack.polynomial %lt {basis = "chebyshev", coeffs = array<f64: 0.5, 0.25, -1.25e-02, 0.0>, domain = array<f64: -8.0, 8.0>} : !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}> loc("/relu1/Relu")
    %m = pack.mask %p {keep = dense<[true, false, true, false, true, false, true, false, true, false, true, false, true, false, true, false]> : tensor<16xi1>} : !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}>
    return %m : !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}>
  }
  func.func @main(%x: !ckks.ct<level = 3, log_scale = 30>, %y: !ckks.ct<level = 3, log_scale = 30>) -> (!ckks.ct<level = 1, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>) {
    %r1 = ckks.rotate %x {steps = 1} : !ckks.ct<level = 3, log_scale = 30>
    %s = ckks.add %x, %r1 : !ckks.ct<level = 3, log_scale = 30>
    %pt = ckks.encode {level = 3, log_scale = 30, value = dense<[1.0, 0.5, 0.25, 0.125]> : tensor<4xf32>} : () -> !ckks.pt<level = 3, log_scale = 30>
    %m = ckks.mul_plain %s, %pt : (!ckks.ct<level = 3, log_scale = 30>, !ckks.pt<level = 3, log_scale = 30>) -> !ckks.ct<level = 3, log_scale = 60>
    %r = ckks.rescale %m : (!ckks.ct<level = 3, log_scale = 60>) -> !ckks.ct<level = 2, log_scale = 30>
    %h:3 = ckks.hoisted_rotate %r {steps = array<i64: 1, 2, 4>} : (!ckks.ct<level = 2, log_scale = 30>) -> (!ckks.ct<level = 2, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>)
    %a = ckks.add %h#0, %h#1 : !ckks.ct<level = 2, log_scale = 30>
    %b = ckks.add %a, %h#2 : !ckks.ct<level = 2, log_scale = 30>
    %sq = ckks.mul %b, %b : (!ckks.ct<level = 2, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>) -> !ckks.ct<level = 2, log_scale = 60>
    %rl = ckks.relinearize %sq : !ckks.ct<level = 2, log_scale = 60>
    %out = ckks.rescale %rl : (!ckks.ct<level = 2, log_scale = 60>) -> !ckks.ct<level = 1, log_scale = 30>
    %boot = ckks.bootstrap %y {target_level = 2} : (!ckks.ct<level = 3, log_scale = 30>) -> !ckks.ct<level = 2, log_scale = 30>
    return %out, %boot : !ckks.ct<level = 1, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>
  }
}

{-#
  dialect_resources: {
    builtin: {
      conv1_weight: "0x04000000BDE3943D2E90203DEFC943BDF5B9DABC"
    }
  }
#-}
