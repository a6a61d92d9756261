// Every kind of attribute and type the syntax knows, on free-form ops.
module attributes {demo.empty = {}, demo.nested = {a = [1, [2, 3], {b}], "quoted key" = "v"}} {
  func.func @attrs(%t: tensor<2x3xf32>, %s: f32, %i: i64, %z: tensor<f64>) -> (tensor<2x3xf32>, f32) {
    %0 = demo.ints {a = 3, b = -42 : i64, c = 7 : i32, d = 1 : i1, e = 5 : index, f = 9223372036854775807} : tensor<2x3xf32>
    %1 = demo.floats %t {a = 1.5, b = -2.0e-05, c = 1.0 : f32, d = 0x7FF0000000000000, e = 0xFFF0000000000000 : f64, f = 0x7FC00000 : f32, g = 3. , h = 1.0e+300} : tensor<2x3xf32>
    %2 = demo.bools_strings %1 {a = true, b = false, c = "tab\there \"quoted\" back\\slash\nnewline \7F", d = "", e = "unicode: µ"} : tensor<2x3xf32>
    %3 = demo.arrays %2 {a = [], b = [1, 2.5, "x", [true]], c = array<i64: 1, -2, 3>, d = array<i64>, e = array<f64: 1.0, -0.5, 0x7FF8000000000000>, f = array<f64>} : tensor<2x3xf32>
    %4 = demo.dicts %3 {a = {}, b = {unit_key, x = 1, "weird-key" = 2}, trans_b, c = unit} : tensor<2x3xf32>
    %5 = demo.types %4 {a = f32, b = tensor<1x784xf32>, c = (f32, tensor<2xi64>) -> (f32, i1), d = () -> (), e = !ckks.ct<level = 3, log_scale = 26>, f = !pack.vec<slots = 8, layout = {gap = 2}>, g = tensor<f32>, h = tensor<0xf32>, i = !demo.opaque, j = (f32) -> ((f32) -> f32), k = index} : tensor<2x3xf32>
    %6 = demo.dense %5 {a = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>, b = dense<0.5> : tensor<2x2xf32>, c = dense<[1, -2]> : tensor<2xi64>, d = dense<7> : tensor<i32>, e = dense<[true, false]> : tensor<2xi1>, f = dense<[0x7F800000, 1.0]> : tensor<2xf32>, g = dense<[]> : tensor<0xf32>, h = dense<"0x0000803F00000040"> : tensor<2xf32>, i = dense<> : tensor<0xf64>} : tensor<2x3xf32>
    %7 = demo.resources_symbols %6 {a = dense_resource<blob_a> : tensor<2xf32>, b = @main, c = @"with space", d = [@x, @y]} : tensor<2x3xf32>
    %8 = demo.mixed_types %7, %s, %i, %z : (tensor<2x3xf32>, f32, i64, tensor<f64>) -> tensor<2x3xf32>
    %n1, %n2 = demo.two_results %s : (f32) -> (f32, f32)
    demo.no_results %n1, %n2 : f32
    demo.nothing : () -> ()
    %9 = demo.locs %8 : tensor<2x3xf32> loc("model.onnx":12:3)
    %10 = demo.locs %9 : tensor<2x3xf32> loc("node"("model.onnx":13:5))
    %11 = demo.locs %10 : tensor<2x3xf32> loc(unknown)
    %12 = demo.locs %11 : tensor<2x3xf32> loc("esc\"aped")
    return %12, %n2 : tensor<2x3xf32>, f32
  }
  func.func @"with space"() {
    return
  }
}

{-#
  dialect_resources: {
    builtin: {
      blob_a: "0x040000000000803F00000040",
      unused_blob: "0x08000000"
    }
  }
#-}
