// Output of `mlir-opt-19 --allow-unregistered-dialect --mlir-print-debuginfo` on the
// generic print of pack_ckks.mlir: custom module/func around generic ops,
// %0:3 result groups, sorted dictionaries, typed numbers and #loc aliases.
#loc2 = loc("<stdin>":3:8)
#loc8 = loc("<stdin>":10:8)
#loc9 = loc("<stdin>":10:49)
module attributes {ckks.params = {log_n = 14 : i64, log_p = array<i64: 50>, log_q = array<i64: 40, 30, 30, 30>, log_scale = 30 : i64, security = "128-bit classic"}, ckks.rotations = array<i64: -8, 1, 2, 4>} {
  func.func @packed(%arg0: !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}> loc("<stdin>":3:8)) -> !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}> {
    %0 = "pack.linear_transform"(%arg0) {bsgs = {baby = 4 : i64, giant = 2 : i64}, diagonals = array<i64: -1, 0, 1>, weights = dense_resource<conv1_weight> : tensor<2x2x1x1xf32>} : (!pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}>) -> !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}> loc(#loc3)
    %1 = "pack.polynomial"(%0) {basis = "chebyshev", coeffs = array<f64: 5.000000e-01, 2.500000e-01, -1.250000e-02, 0.000000e+00>, domain = array<f64: -8.000000e+00, 8.000000e+00>} : (!pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}>) -> !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}> loc(#loc4)
    %2 = "pack.mask"(%1) {keep = dense<[true, false, true, false, true, false, true, false, true, false, true, false, true, false, true, false]> : tensor<16xi1>} : (!pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}>) -> !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}> loc(#loc5)
    return %2 : !pack.vec<slots = 16, layout = {channels = 2, gap = 1, shape = array<i64: 1, 2, 2, 2>}> loc(#loc6)
  } loc(#loc1)
  func.func @main(%arg0: !ckks.ct<level = 3, log_scale = 30> loc("<stdin>":10:8), %arg1: !ckks.ct<level = 3, log_scale = 30> loc("<stdin>":10:49)) -> (!ckks.ct<level = 1, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>) {
    %0 = "ckks.rotate"(%arg0) {steps = 1 : i64} : (!ckks.ct<level = 3, log_scale = 30>) -> !ckks.ct<level = 3, log_scale = 30> loc(#loc10)
    %1 = "ckks.add"(%arg0, %0) : (!ckks.ct<level = 3, log_scale = 30>, !ckks.ct<level = 3, log_scale = 30>) -> !ckks.ct<level = 3, log_scale = 30> loc(#loc11)
    %2 = "ckks.encode"() {level = 3 : i64, log_scale = 30 : i64, value = dense<[1.000000e+00, 5.000000e-01, 2.500000e-01, 1.250000e-01]> : tensor<4xf32>} : () -> !ckks.pt<level = 3, log_scale = 30> loc(#loc12)
    %3 = "ckks.mul_plain"(%1, %2) : (!ckks.ct<level = 3, log_scale = 30>, !ckks.pt<level = 3, log_scale = 30>) -> !ckks.ct<level = 3, log_scale = 60> loc(#loc13)
    %4 = "ckks.rescale"(%3) : (!ckks.ct<level = 3, log_scale = 60>) -> !ckks.ct<level = 2, log_scale = 30> loc(#loc14)
    %5:3 = "ckks.hoisted_rotate"(%4) {steps = array<i64: 1, 2, 4>} : (!ckks.ct<level = 2, log_scale = 30>) -> (!ckks.ct<level = 2, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>) loc(#loc15)
    %6 = "ckks.add"(%5#0, %5#1) : (!ckks.ct<level = 2, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>) -> !ckks.ct<level = 2, log_scale = 30> loc(#loc16)
    %7 = "ckks.add"(%6, %5#2) : (!ckks.ct<level = 2, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>) -> !ckks.ct<level = 2, log_scale = 30> loc(#loc17)
    %8 = "ckks.mul"(%7, %7) : (!ckks.ct<level = 2, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30>) -> !ckks.ct<level = 2, log_scale = 60> loc(#loc18)
    %9 = "ckks.relinearize"(%8) : (!ckks.ct<level = 2, log_scale = 60>) -> !ckks.ct<level = 2, log_scale = 60> loc(#loc19)
    %10 = "ckks.rescale"(%9) : (!ckks.ct<level = 2, log_scale = 60>) -> !ckks.ct<level = 1, log_scale = 30> loc(#loc20)
    %11 = "ckks.bootstrap"(%arg1) {target_level = 2 : i64} : (!ckks.ct<level = 3, log_scale = 30>) -> !ckks.ct<level = 2, log_scale = 30> loc(#loc21)
    return %10, %11 : !ckks.ct<level = 1, log_scale = 30>, !ckks.ct<level = 2, log_scale = 30> loc(#loc22)
  } loc(#loc7)
} loc(#loc)
#loc = loc("<stdin>":1:1)
#loc1 = loc("<stdin>":2:3)
#loc3 = loc("/conv1/Conv")
#loc4 = loc("/relu1/Relu")
#loc5 = loc("<stdin>":6:10)
#loc6 = loc("<stdin>":7:5)
#loc7 = loc("<stdin>":9:3)
#loc10 = loc("<stdin>":11:11)
#loc11 = loc("<stdin>":12:10)
#loc12 = loc("<stdin>":13:11)
#loc13 = loc("<stdin>":14:10)
#loc14 = loc("<stdin>":15:10)
#loc15 = loc("<stdin>":16:18)
#loc16 = loc("<stdin>":17:10)
#loc17 = loc("<stdin>":18:10)
#loc18 = loc("<stdin>":19:11)
#loc19 = loc("<stdin>":20:11)
#loc20 = loc("<stdin>":21:12)
#loc21 = loc("<stdin>":22:13)
#loc22 = loc("<stdin>":23:5)

{-#
  dialect_resources: {
    builtin: {
      conv1_weight: "0x04000000BDE3943D2E90203DEFC943BDF5B9DABC"
    }
  }
#-}

