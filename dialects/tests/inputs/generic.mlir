// The generic form, as `mlir-opt --mlir-print-op-generic` writes it.
"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>, sym_name = "main"}> ({
  ^bb0(%arg0: tensor<1x4xf32>, %arg1: tensor<4x4xf32>):
    %0 = "nn.matmul"(%arg0, %arg1) : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32> loc("/mm/MatMul")
    %1:2 = "nn.split"(%0) {axis = 1 : i64, sizes = array<i64: 2, 2>} : (tensor<1x4xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>)
    %2 = "nn.concat"(%1#1, %1#0) {axis = 1 : i64} : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x4xf32>
    %3 = "nn.relu"(%2) : (tensor<1x4xf32>) -> tensor<1x4xf32>
    "func.return"(%3) : (tensor<1x4xf32>) -> ()
  }) : () -> ()
  "func.func"() <{function_type = () -> (), sym_name = "empty"}> ({
    "func.return"() : () -> ()
  }) : () -> ()
}) {ckks.params = {log_n = 13 : i64, log_scale = 26 : i64}} : () -> ()
