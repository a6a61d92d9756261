module {
  func.func @main(%x: tensor<4294967296x4294967296x16xf32>) -> tensor<4294967296x4294967296x16xf32> {
    %0 = nn.square %x : tensor<4294967296x4294967296x16xf32>
    return %0 : tensor<4294967296x4294967296x16xf32>
  }
}
