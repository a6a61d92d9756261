module {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %0 = pack.pack %x : (tensor<4xf32>) -> !pack.vec<slots = 4611686018427387904, size = 4, period = 4>
    %1 = pack.unpack %0 : (!pack.vec<slots = 4611686018427387904, size = 4, period = 4>) -> tensor<4xf32>
    return %1 : tensor<4xf32>
  }
}
