// pack over several ciphertexts by spatial tiles (2048 slots, the
// bootstrap-test parameters): the 1x64x64 input takes two ciphertexts; the
// stride-2 conv's 4x32x32 result at gap 2 is one 64x64 plane of 4096
// slots, larger than a ciphertext, so it is tiled by rows over two. The
// next conv's 3x3 taps reach across the tiles' edge: its block matrix has
// all four blocks (each output tile reads both input tiles).
// RUN: orion-opt --pass pack --params bootstrap-test %s | FileCheck %s
// RUN: orion-opt --pass pack --params bootstrap-test --stats %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// RUN: orion-opt --passes pack,lower-to-ckks --params bootstrap-test %s | FileCheck %s --check-prefix=CKKS

// CHECK:      pack.pack %x : (tensor<1x1x64x64xf32>) -> !pack.vec<slots = 2048, size = 4096, period = 2048>
// CHECK:      pack.linear {{.*}} -> !pack.vec<slots = 2048, size = 4096, period = 2048, shape = [4, 32, 32], gap = 2> loc("/down/Conv")
// CHECK:      pack.linear {{.*}} : !pack.vec<slots = 2048, size = 4096, period = 2048, shape = [4, 32, 32], gap = 2> loc("/conv/Conv")

// STATS:      layer op cts input span/period output span/period diags baby giant out depth
// STATS-NEXT: /down/Conv conv2d 3x3 s2 2->2 1x64x64 g1 4096/2048 4x32x32 g2 4096/2048 40 6 8 0 1
// STATS-NEXT: /conv/Conv conv2d 3x3 2->2 4x32x32 g2 4096/2048 4x32x32 g2 4096/2048 140 12 14 0 1

// CKKS-COUNT-2: ckks.encrypt
// CKKS:         block = array<i64: 0, 1>
// CKKS:         block = array<i64: 1, 0>
// CKKS:         ckks.decrypt {{.*}} : (!ckks.ct<{{.*}}>, !ckks.ct<{{.*}}>)

module {
  func.func @main(%x: tensor<1x1x64x64xf32>) -> tensor<1x4x32x32xf32> {
    %w1 = nn.constant {value = dense_resource<down_w> : tensor<4x1x3x3xf32>} : tensor<4x1x3x3xf32> loc("/down/Conv")
    %b1 = nn.constant {value = dense_resource<down_b> : tensor<4xf32>} : tensor<4xf32> loc("/down/Conv")
    %c1 = nn.conv2d %x, %w1, %b1 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<1x1x64x64xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<1x4x32x32xf32> loc("/down/Conv")
    %w2 = nn.constant {value = dense_resource<conv_w> : tensor<4x4x3x3xf32>} : tensor<4x4x3x3xf32> loc("/conv/Conv")
    %b2 = nn.constant {value = dense_resource<conv_b> : tensor<4xf32>} : tensor<4xf32> loc("/conv/Conv")
    %c2 = nn.conv2d %c1, %w2, %b2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<1x4x32x32xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x32x32xf32> loc("/conv/Conv")
    return %c2 : tensor<1x4x32x32xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      down_w: "0x040000009CC4A0BE0681953D23DBF93DBC74933E8B6CE7BD1D5AA43E4260E53B0AD723BC14AE873E643B9FBEE17A143E3108AC3D1B2FDDBDB4C8763EA245B6BD96438BBC96438B3CEC51383ECBA145BEC52030BDF4FD54BDBC74133D643B5F3EDF4F0DBE643B5F3E6F1283BD6F12033BE3A51BBE6F12833BD34DA23EAAF1D23D14AE473E8B6CE7BD23DBF9BD4C3709BE68916D3D",
      down_b: "0x040000001B2FDD3CD578693D7F6ABCBDEC51383D",
      conv_w: "0x040000009318043E8FC2753C9A9919BE4C3789BDC3F528BEAAF1D2BD295C0F3EBC74133D8716593DA69BC43DBA490C3E508D173D77BE1F3D31082C3DB81E853D6F12033D8FC2753DA69BC4BD4260653D426065BC5839B43D273108BE8716D9BD2DB21DBE7F6ABC3DDF4F0D3EF4FD543D583934BD1B2FDD3DA69BC43D3108AC3C54E3A5BD022B87BDF4FDD4BC23DB79BD7F6ABCBC1283403DE17A143E508D17BE7F6ABC3C2DB21DBE4A0C02BEAAF1D23DCDCCCC3C295C0F3EBC7493BC54E325BEE3A51BBDB6F3FD3C0681153E0AD7233E6F1203BC6891EDBC273108BEA69B443DA69BC4BD6891EDBD2FDD24BEC3F528BE23DB793D250601BE52B81E3EBA490CBE6DE7FB3DB6F3FDBD2FDD24BE0681953DC520B0BD77BE9F3DF4FDD4BD9A9919BE355EBA3D7368913DFCA9F13D2DB29D3D04560EBEC520303D295C8F3DF4FD54BCBC74133E9EEFA7BD52B81E3EBC74933D79E926BE54E325BECDCC4C3D8716D93D295C0FBE250681BDE3A59B3DF853E3BD8FC2F53D0AD7A3BB2B8716BE583934BDCDCCCC3C0AD7A3BCFCA9713DFCA9F1BD83C0CA3D7F6A3CBDA69B443DC520303D1B2FDDBCE3A51BBD5C8FC23D508D173E5C8FC23D5839B43CDF4F8DBD068115BEC1CA213E96438B3D643BDF3D426065BD295C0F3DE5D0223EAE47E13D96430B3D6F1283BDA69BC4BC9318043E9EEF27BDB6F37D3D96430B3D022B073E60E5D03DBC7493BDE7FB29BEC1CAA1BDF4FDD4BC6891ED3C3D0AD73D9318043E08AC1CBEF853E33DF4FDD43D23DBF93DA69BC43C9A9999BDB29DEF3D60E5D03DB6F37D3DDF4F0D3E",
      conv_b: "0x04000000B6F3FDBCE7FBA9BD5839343CFCA9713D"
    }
  }
#-}
