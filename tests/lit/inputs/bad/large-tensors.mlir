// Verifiable (each tensor is at the 2^31-element limit) but 51 GB to
// interpret: refused before allocating.
module {
  func.func @main(%x: tensor<32768x65536xf32>) -> tensor<32768x65536xf32> {
    %0 = nn.square %x : tensor<32768x65536xf32>
    %1 = nn.square %0 : tensor<32768x65536xf32>
    return %1 : tensor<32768x65536xf32>
  }
}
