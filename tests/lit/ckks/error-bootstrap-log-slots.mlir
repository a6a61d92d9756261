// A sparse bootstrap must name a slot count the ring has: the verifier
// names the op and the range.
// RUN: not orion-opt %s 2>&1 | FileCheck %s

// CHECK: {{.*}}error-bootstrap-log-slots.mlir:9:5: error: 'ckks.bootstrap' op 'log_slots' must be an integer from 1 to 11 (log2 of the slots bootstrapped), got 12

module attributes {ckks.params = {log_n = 12, log_q = array<i64: 55, 40, 40>, log_p = array<i64: 61, 61, 61, 61>, log_scale = 40, hamming_weight = 192, insecure = true, bootstrap = {log_slots = 11, cts_log_q = array<i64: 56, 56, 56>, stc_log_q = array<i64: 40, 40>, dft = "bsgs", ephemeral_hamming_weight = 32}}, ckks.rotations = array<i64>} {
  func.func @main(%x: !ckks.ct<level = 1, log_scale = 40>) -> !ckks.ct<level = 2, log_scale = 40> {
    %0 = ckks.bootstrap %x {bound = 1.0, log_slots = 12} : (!ckks.ct<level = 1, log_scale = 40>) -> !ckks.ct<level = 2, log_scale = 40>
    return %0 : !ckks.ct<level = 2, log_scale = 40>
  }
}
