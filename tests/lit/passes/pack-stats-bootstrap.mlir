// --stats on a pack-level input (no pass needed): a bootstrap is a row of its
// own (0 levels), even inside a layer whose other ops share its location, and
// the depth total is the longest chain between bootstraps (2, not 3).
// RUN: orion-opt --stats %s -o /dev/null 2>&1 | FileCheck %s

// CHECK:      // pack statistics: 4096 slots; rotations = 0 baby + 0 giant + 0 output = 0; 1 bootstraps; depth = longest chain of levels between bootstraps
// CHECK-NEXT: layer op cts input span/period output span/period diags baby giant out depth
// CHECK-NEXT: /act/Mul square 1->1 2x2x2 g1 8/8 2x2x2 g1 8/8 - - - - 1
// CHECK-NEXT: /act/Mul bootstrap 1->1 2x2x2 g1 8/8 2x2x2 g1 8/8 - - - - 0
// CHECK-NEXT: /act/Mul square x2 1->1 2x2x2 g1 8/8 2x2x2 g1 8/8 - - - - 2
// CHECK-NEXT: total (3 layers, 0 linear) 0 0 0 0 2

module {
  func.func @main(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
    %0 = pack.pack %x : (tensor<1x2x2x2xf32>) -> !pack.vec<slots = 4096, size = 8, period = 8>
    %1 = pack.square %0 : !pack.vec<slots = 4096, size = 8, period = 8> loc("/act/Mul")
    %2 = pack.bootstrap %1 {bound = 4.0} : !pack.vec<slots = 4096, size = 8, period = 8> loc("/act/Mul")
    %3 = pack.square %2 : !pack.vec<slots = 4096, size = 8, period = 8> loc("/act/Mul")
    %4 = pack.square %3 : !pack.vec<slots = 4096, size = 8, period = 8> loc("/act/Mul")
    %5 = pack.unpack %4 : (!pack.vec<slots = 4096, size = 8, period = 8>) -> tensor<1x2x2x2xf32>
    return %5 : tensor<1x2x2x2xf32>
  }
}
