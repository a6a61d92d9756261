// ReLU's shape, x * p(bootstrap(x)), when x is below the polynomial's level:
// the polynomial lands at the prime of the product's level (prime_level),
// so the rescaled product has x's scale exactly and adds to a value at that
// scale (the encrypted run checks scales exactly and refuses a mismatch).
// RUN: orion-opt %s --pass lower-to-ckks --params bootstrap-test -o %t.mlir
// RUN: FileCheck %s < %t.mlir
// RUN: orion-run %t.mlir --input %S/../inputs/eight.npy --seed 2 --compare --bound 1e-3 --quiet | FileCheck %s --check-prefix=ENC
// A prime level above the result's level is refused by the verifier:
// RUN: sed 's/prime_level = 14/prime_level = 16/' %t.mlir > %t.bad.mlir
// RUN: not orion-opt %t.bad.mlir 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK: ckks.polynomial %{{[0-9]+}} {basis = "chebyshev", coeffs = array<f64: 0.5, 0.25>, domain = array<f64: -1.0, 1.0>, result_scale = "level_prime", prime_level = 14} : (!ckks.ct<level = 16, log_scale = 40>) -> !ckks.ct<level = 15, log_scale = 40> loc("/poly")
// CHECK-NEXT: ckks.level_down %{{[0-9]+}} {level = 14} : (!ckks.ct<level = 15, log_scale = 40>) -> !ckks.ct<level = 14, log_scale = 40>
// ENC: classes agree with the cleartext ckks interpreter: 1/1
// BAD: error: 'ckks.polynomial' op (node "/poly") 'prime_level' must be an integer from 0 to the result's level 15, got 16

module {
  func.func @main(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
    %0 = pack.pack %x : (tensor<1x2x2x2xf32>) -> !pack.vec<slots = 2048, size = 8, period = 8>
    %1 = pack.square %0 : !pack.vec<slots = 2048, size = 8, period = 8> loc("/sq1")
    %2 = pack.square %1 : !pack.vec<slots = 2048, size = 8, period = 8> loc("/sq2")
    %3 = pack.bootstrap %2 {bound = 4.0} : !pack.vec<slots = 2048, size = 8, period = 8> loc("/boot")
    %4 = pack.polynomial %3 {basis = "chebyshev", coeffs = array<f64: 0.5, 0.25>, domain = array<f64: -1.0, 1.0>} : !pack.vec<slots = 2048, size = 8, period = 8> loc("/poly")
    %5 = pack.mul %2, %4 : !pack.vec<slots = 2048, size = 8, period = 8> loc("/prod")
    %6 = pack.add %5, %2 : !pack.vec<slots = 2048, size = 8, period = 8> loc("/sum")
    %7 = pack.unpack %6 : (!pack.vec<slots = 2048, size = 8, period = 8>) -> tensor<1x2x2x2xf32>
    return %7 : tensor<1x2x2x2xf32>
  }
}
