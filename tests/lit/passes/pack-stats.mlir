// orion-opt --stats: one row per layer of the last pack-level IR (layouts,
// the plan's diagonals and baby-step / giant-step / output rotations, the
// levels each layer consumes), then totals. The figures follow from the
// multiplexed layout (4096 slots):
//  - /down/Conv, 2x8x8 (gap 1) -> 4x4x4 stride 2: the result doubles the gap
//    (4 channels interleaved on one 8x8 plane); k = 8 (dh - a) + (dw - b)
//    mod 64 with dh, dw in -1..1 and a, b in 0..1 gives 4 x 4 = 16
//    diagonals; input period 128 over output period 64: 1 output rotation.
//  - /conv/Conv, stride 1 at gap 2: 8 (2 dh + a' - a) + (2 dw + b' - b) has
//    7 x 7 = 49 values.
//  - /gap/GlobalAveragePool: k = (in_pos - c) mod 4 is 0 or 2: 2 diagonals,
//    then 64 / 4 -> 4 output rotations.
// RUN: orion-opt --pass pack --stats %s -o /dev/null 2>&1 | FileCheck %s
// RUN: orion-opt --pass pack --stats=%t.txt %s -o /dev/null
// RUN: FileCheck %s < %t.txt
// The table survives lowering past the pack level.
// RUN: orion-opt --passes pack,lower-to-ckks --stats %s -o /dev/null 2>&1 | FileCheck %s
// RUN: not orion-opt --pass canonicalize --stats %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=ERR

// CHECK:      // pack statistics: 4096 slots; rotations = 10 baby + 13 giant + 5 output = 28; 0 bootstraps; depth = longest chain of levels between bootstraps
// CHECK-NEXT: layer op cts input span/period output span/period diags baby giant out depth
// CHECK-NEXT: /down/Conv conv2d 3x3 s2 1->1 2x8x8 g1 128/128 4x4x4 g2 64/64 16 3 4 1 1
// CHECK-NEXT: /act/Mul square 1->1 4x4x4 g2 64/64 4x4x4 g2 64/64 - - - - 1
// CHECK-NEXT: /conv/Conv conv2d 3x3 1->1 4x4x4 g2 64/64 4x4x4 g2 64/64 49 6 7 0 1
// CHECK-NEXT: /res/Add add 1->1 4x4x4 g2 64/64 4x4x4 g2 64/64 - - - - 0
// CHECK-NEXT: /gap/GlobalAveragePool global_avgpool 1->1 4x4x4 g2 64/64 4 4/4 2 0 1 4 1
// CHECK-NEXT: /fc/Gemm dense 1->1 4 4/4 3 3/4 4 1 1 0 1
// CHECK-NEXT: total (6 layers, 4 linear) 71 10 13 5 5

// ERR: error: --stats needs the pack level

module {
  func.func @main(%x: tensor<1x2x8x8xf32>) -> tensor<1x3xf32> {
    %0 = nn.constant {value = dense_resource<c1_w> : tensor<4x2x3x3xf32>} : tensor<4x2x3x3xf32> loc("/down/Conv")
    %1 = nn.constant {value = dense_resource<c1_b> : tensor<4xf32>} : tensor<4xf32> loc("/down/Conv")
    %2 = nn.conv2d %x, %0, %1 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32> loc("/down/Conv")
    %3 = nn.square %2 : tensor<1x4x4x4xf32> loc("/act/Mul")
    %4 = nn.constant {value = dense_resource<c2_w> : tensor<4x4x3x3xf32>} : tensor<4x4x3x3xf32> loc("/conv/Conv")
    %5 = nn.constant {value = dense_resource<c2_b> : tensor<4xf32>} : tensor<4xf32> loc("/conv/Conv")
    %6 = nn.conv2d %3, %4, %5 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<1x4x4x4xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32> loc("/conv/Conv")
    %7 = nn.add %6, %3 : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> loc("/res/Add")
    %8 = nn.global_avgpool %7 : (tensor<1x4x4x4xf32>) -> tensor<1x4x1x1xf32> loc("/gap/GlobalAveragePool")
    %9 = nn.flatten %8 {axis = 1} : (tensor<1x4x1x1xf32>) -> tensor<1x4xf32> loc("/flat/Flatten")
    %10 = nn.constant {value = dense_resource<fc_w> : tensor<3x4xf32>} : tensor<3x4xf32> loc("/fc/Gemm")
    %11 = nn.constant {value = dense_resource<fc_b> : tensor<3xf32>} : tensor<3xf32> loc("/fc/Gemm")
    %12 = nn.gemm %9, %10, %11 {trans_b = true} : (tensor<1x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<1x3xf32> loc("/fc/Gemm")
    return %12 : tensor<1x3xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      c1_w: "0x04000000000000BF23DBF93E91ED5C3FAE47413F1B2F9D3E39B4683F448B4C3FE5D002BF1B2F1DBFF4FD343FE5D0E23E508D17BD77BE1FBF736871BF31080C3F6F1283BAA8C64B3FBC7433BFA4707DBF6ABC543F508D773F1B2F5D3F3F353EBFDF4F0DBF77BEDFBE79E946BFD34D623FF853E33EAE47A13EDF4F0D3E9A9939BF14AE473FE3A59B3E0C02EB3EF0A786BE79E926BEA4701D3F713D4A3FA01A2FBE8716993E8716D93D0AD723BF8FC2353F14AE67BFE7FB29BE0E2D72BF39B4483E3333333FF4FD54BEFA7EEABEAE47E1BEFCA9113F9EEF27BF448B0CBFB6F3BD3E022B07BDD57869BF1904363F52B83E3F21B0323F4A0C02BE2731683F8FC2753F91ED1CBF5EBA493EDF4F8D3E7D3FF53EB6F3FDBDE3A51B3D068115BE3333133F2B87563F",
      c1_b: "0x04000000560EEDBEE92631BF3D0A77BF1D5A24BF",
      c2_w: "0x04000000583934BCBC7493BE0C024BBFE3A51BBD3D0A97BE83C04A3FFED4583F6F12033E6666E63E14AE073FD1225BBF6210583E355E3ABEB07248BF96430BBD4E62D03EAE4761BD1B2F3DBF2DB2DDBEAC1C9ABEBE9F9ABEA01A6F3F2731C83E6ABCF4BECBA185BED7A3F0BE8716593F04562E3F666666BE3D0A973E6DE7BBBE6DE77BBF022B67BF52B85EBFB6F33D3FD1229B3ED34D623E986ED2BE14AE47BFB072083F000060BF8D970E3F2DB2DDBE426065BCB072083FFED4583FB4C816BFA245163F17D9CEBEBA49CC3E83C00ABFB6F37DBFD7A3F0BEDBF97E3F6ABC743E713D0ABFD7A3B03EB29D6F3F295C2F3FD34D22BF8B6C673FBA498CBE0E2D723FF4FD54BDA8C62B3F355E3A3E5A645BBFB4C8563F96430BBE6F12C33EA245363E819543BFF4FD943E1283203F2DB21D3EE5D0223EB4C8163F190456BED7A3B0BEA24536BF6210983EE17A54BF3789413FEC51B8BEBC74133C1D5AA43E83C02A3F713D0A3F736891BDFCA971BECDCC2CBF52B87E3F128300BF022B873E8FC2B5BE7593183F77BE1FBEBC7413BC7F6A7CBF5C8F423E3D0A573E0AD763BF0AD7233F6ABC743E022B073D1D5A043F08ACDC3EC976FE3E96436BBF08AC7CBF3BDF8F3ED9CEB73E08AC1C3E0AD7A33EBC74133EA69B44BC583934BC378961BF621018BF4260653CFED478BEB6F3BD3E8FC2153F022B873DB81E653F0E2D323E77BE9FBDEC51F8BED7A3703FD578A9BE39B4483FF853E33DE3A51BBF3108ACBDD1223B3F4C3749BF3789C13EC74B57BF4A0C023FC74B37BE986ED2BEA245563F9EEFA73D6DE77B3F",
      c2_b: "0x04000000CDCCCC3CB072083F52B81EBF60E5103F",
      fc_w: "0x040000006ABCF43E3BDF6F3F2FDDE4BEE17AD4BE426065BFCDCC2C3FD7A330BF1D5A443F1058F9BEB6F37DBD08AC1CBEFA7EEA3E",
      fc_b: "0x040000008195033F23DB79BEBA498CBE"
    }
  }
#-}
