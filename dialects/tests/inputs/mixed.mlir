// Custom module and func holding generic ops, next to a generic func holding custom ops.
module {
  func.func @custom_outside(%a: tensor<4xf32>) -> tensor<4xf32> {
    %0 = "nn.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
    %1 = nn.add %0, %a : tensor<4xf32>
    func.return %1 : tensor<4xf32>
  }
  "func.func"() <{function_type = (tensor<4xf32>) -> tensor<4xf32>, sym_name = "generic_outside"}> ({
  ^bb0(%x: tensor<4xf32>):
    %y = nn.sigmoid %x : tensor<4xf32> loc("/sig")
    %z = "nn.mul"(%x, %y) {note = "silu"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    return %z : tensor<4xf32>
  }) : () -> ()
}
