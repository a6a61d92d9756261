// approximate-activations: ReLU on a calibrated range becomes x * sign(x)
// with the composite minimax sign (degrees 15, 15, 27; the first stage on
// [-B, B], the calibrated range widened by 5% of its width on each side,
// the others on [-1, 1]); a smooth activation becomes one Chebyshev
// polynomial. The first polynomial records the calibrated range.
// RUN: orion-opt --pass approximate-activations %s | FileCheck %s
// RUN: orion-opt --pass approximate-activations --pass-statistics %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// Without a range (no calibrate before it) the pass refuses, naming the op.
// RUN: sed -e 's/ {range = array<f64: -4.0, 4.0>}//' %s > %t.norange.mlir
// RUN: not orion-opt --pass approximate-activations %t.norange.mlir 2>&1 | FileCheck %s --check-prefix=NORANGE

// CHECK-LABEL: func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
// CHECK-NOT:   nn.relu
// CHECK:       %[[P1:.*]] = nn.polynomial %x {basis = "chebyshev", coeffs = array<f64: {{([-0-9.e]+, ){15}[-0-9.e]+}}>, domain = array<f64: -4.4, 4.4>, range = array<f64: -4.0, 4.0>} : tensor<1x4xf32> loc("/act/Relu")
// CHECK-NEXT:  %[[P2:.*]] = nn.polynomial %[[P1]] {basis = "chebyshev", coeffs = array<f64: {{([-0-9.e]+, ){15}[-0-9.e]+}}>, domain = array<f64: -1.0, 1.0>} : tensor<1x4xf32> loc("/act/Relu")
// CHECK-NEXT:  %[[P3:.*]] = nn.polynomial %[[P2]] {basis = "chebyshev", coeffs = array<f64: {{([-0-9.e]+, ){27}[-0-9.e]+}}>, domain = array<f64: -1.0, 1.0>} : tensor<1x4xf32> loc("/act/Relu")
// CHECK-NEXT:  %[[R:.*]] = nn.mul %x, %[[P3]] : tensor<1x4xf32> loc("/act/Relu")
// CHECK-NEXT:  %[[G:.*]] = nn.polynomial %[[R]] {basis = "chebyshev", coeffs = array<f64: {{.*}}>{{.*}}} : tensor<1x4xf32> loc("/act/Sigmoid")
// CHECK-NEXT:  return %[[G]] : tensor<1x4xf32>
// CHECK-NOT:   nn.sigmoid

// STATS:      approximate-activations
// STATS-NEXT:   (relus-approximated) 1
// STATS-NEXT:   (relu-scalings-folded) 0
// STATS-NEXT:   (smooth-approximated) 1

// NORANGE: error: 'nn.relu' op (node "/act/Relu") has no calibrated input 'range'

func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %0 = nn.relu %x {range = array<f64: -4.0, 4.0>} : tensor<1x4xf32> loc("/act/Relu")
  %1 = nn.sigmoid %0 {range = array<f64: -1.0, 5.0>} : tensor<1x4xf32> loc("/act/Sigmoid")
  return %1 : tensor<1x4xf32>
}
