// ckks.polynomial: the verifier checks the levels the polynomial consumes
// (ceil(log2(d + 1)), plus one to map a Chebyshev domain whose width is not
// 2 onto [-1, 1]) and the result scale; orion-run evaluates it encrypted.
// RUN: orion-opt %s | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: orion-run %s --input %S/../inputs/four.npy --compare --bound 1e-3 2>&1 | FileCheck %s --check-prefix=ENC
// A degree-4 polynomial needs 3 + 1 levels, not the 3 the result type grants:
// RUN: sed 's/0.5, 0.25, 0.125>/0.5, 0.25, 0.125, 0.0, 1.0>/' %s > %t.bad.mlir
// RUN: not orion-opt %t.bad.mlir 2>&1 | FileCheck %s --check-prefix=BAD

// ROUNDTRIP: ckks.polynomial %0 {basis = "chebyshev", coeffs = array<f64: 0.5, 0.25, 0.125>, domain = array<f64: -4.0, 4.0>}
// ROUNDTRIP: result_scale = "level_prime"
// BAD: error: 'ckks.polynomial' op (node "cheb") result has type !ckks.ct<level = 2, log_scale = 26>, expected !ckks.ct<level = 1, log_scale = 26>

// T0 = 1, T1 = t, T2 = 2t^2 - 1 with t = x / 4 on [-4, 4]:
// p(x) = 0.5 + 0.25 t + 0.125 (2 t^2 - 1) = [0.453125, 0.5625, 0.703125, 0.875]
// at x = [1, 2, 3, 4]; the encrypted run agrees with the cleartext one to
// 1e-3 of the largest value (--compare fails above it), so only two digits
// of each printed value are pinned.
// ENC: image 0: logits [0.45{{[0-9]+}}, 0.56{{[0-9]+}}, 0.70{{[0-9]+}}, 0.87{{[0-9]+}}]
// ENC: max relative logit error: {{.*}} (bound 1e-3)

module attributes {ckks.params = {log_n = 13, log_q = array<i64: 29, 26, 26, 26, 26, 26>, log_p = array<i64: 29, 29>, log_scale = 26}, ckks.rotations = array<i64>} {
  func.func @main(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
    %0 = ckks.encrypt %x {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (tensor<4xf32>) -> !ckks.ct<level = 5, log_scale = 26>
    %1 = ckks.polynomial %0 {basis = "chebyshev", coeffs = array<f64: 0.5, 0.25, 0.125>, domain = array<f64: -4.0, 4.0>} : (!ckks.ct<level = 5, log_scale = 26>) -> !ckks.ct<level = 2, log_scale = 26> loc("cheb")
    %2 = ckks.polynomial %0 {basis = "monomial", coeffs = array<f64: 0.0, 0.0, 0.0, 3.0>, result_scale = "level_prime"} : (!ckks.ct<level = 5, log_scale = 26>) -> !ckks.ct<level = 3, log_scale = 26>
    %3 = ckks.level_down %0 {level = 3} : (!ckks.ct<level = 5, log_scale = 26>) -> !ckks.ct<level = 3, log_scale = 26>
    %4 = ckks.mul %3, %2 : (!ckks.ct<level = 3, log_scale = 26>, !ckks.ct<level = 3, log_scale = 26>) -> !ckks.ct<level = 3, log_scale = 52, degree = 2>
    %5 = ckks.relinearize %4 : (!ckks.ct<level = 3, log_scale = 52, degree = 2>) -> !ckks.ct<level = 3, log_scale = 52>
    %6 = ckks.rescale %5 : (!ckks.ct<level = 3, log_scale = 52>) -> !ckks.ct<level = 2, log_scale = 26>
    %7 = ckks.decrypt %1 {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (!ckks.ct<level = 2, log_scale = 26>) -> tensor<4xf32>
    %8 = ckks.decrypt %6 {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (!ckks.ct<level = 2, log_scale = 26>) -> tensor<4xf32>
    return %7, %8 : tensor<4xf32>, tensor<4xf32>
  }
}
