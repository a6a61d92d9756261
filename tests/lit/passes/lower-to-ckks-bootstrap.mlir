// A bootstrap of a layout that repeats every 8 slots is lowered as a sparse
// bootstrap of 2^3 slots (smaller DFTs, one EvalMod for both halves), and
// the encrypted run with it matches the cleartext ckks interpreter.
// RUN: orion-opt %s --pass lower-to-ckks --params bootstrap-test -o %t.mlir
// RUN: FileCheck %s < %t.mlir
// RUN: orion-run %t.mlir --input %S/../inputs/eight.npy --seed 3 --compare --bound 1e-3 --quiet | FileCheck %s --check-prefix=ENC
// The DFT matrices encoded level by level at each bootstrap: no matrices kept.
// RUN: orion-run %t.mlir --input %S/../inputs/eight.npy --seed 3 --compare --bound 1e-3 --quiet --lazy-bootstrap-matrices | FileCheck %s --check-prefix=ENC --check-prefix=LAZY

// CHECK: ckks.bootstrap %{{[0-9]+}} {bound = 4.0{{0*}}, log_slots = 3} : (!ckks.ct<level = 15, log_scale = 40>) -> !ckks.ct<level = 16, log_scale = 40>
// LAZY: bootstrapping matrices 0 MB
// ENC: classes agree with the cleartext ckks interpreter: 1/1

module {
  func.func @main(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
    %0 = pack.pack %x : (tensor<1x2x2x2xf32>) -> !pack.vec<slots = 2048, size = 8, period = 8>
    %1 = pack.square %0 : !pack.vec<slots = 2048, size = 8, period = 8> loc("/act/Mul")
    %2 = pack.bootstrap %1 {bound = 4.0} : !pack.vec<slots = 2048, size = 8, period = 8> loc("/act/Mul")
    %3 = pack.square %2 : !pack.vec<slots = 2048, size = 8, period = 8> loc("/act/Mul")
    %4 = pack.unpack %3 : (!pack.vec<slots = 2048, size = 8, period = 8>) -> tensor<1x2x2x2xf32>
    return %4 : tensor<1x2x2x2xf32>
  }
}
