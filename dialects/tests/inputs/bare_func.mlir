// A file holding a bare function: it is wrapped in a module, as MLIR does.
func.func @main(%x: tensor<1x3x8x8xf32>) -> tensor<1x3xf32> {
  // global average pooling then flatten
  %pooled = nn.global_avgpool %x : (tensor<1x3x8x8xf32>) -> tensor<1x3x1x1xf32> loc("/gap/GlobalAveragePool")
  %flat = nn.flatten %pooled {axis = 1} : (tensor<1x3x1x1xf32>) -> tensor<1x3xf32>
  %poly = nn.polynomial %flat {coeffs = array<f64: 0.0, 0.5, 0.125>} : tensor<1x3xf32> // trailing comment
  return %poly : tensor<1x3xf32>
}
