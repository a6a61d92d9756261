module {
  func.func @main(%x: tensor<1000000000xf32>) -> tensor<1000000000xf32> {
    %0 = pack.pack %x : (tensor<1000000000xf32>) -> !pack.vec<slots = 1, size = 1000000000, period = 1>
    %1 = pack.unpack %0 : (!pack.vec<slots = 1, size = 1000000000, period = 1>) -> tensor<1000000000xf32>
    return %1 : tensor<1000000000xf32>
  }
}
