//! Runtime dispatch of the scalar kernels to AVX-512.
//!
//! The library is compiled for baseline x86-64 (portable binaries), where
//! LLVM cannot vectorise our element-wise loops: there is no unsigned 64-bit
//! `min` (the branch-free modular reductions) and no 64-bit integer <-> f64
//! conversion before AVX-512. tfhe-ntt dispatches its own kernels at run
//! time; [`vectorized`] does the same for ours: on a CPU with AVX-512
//! (F, DQ, VL, BW, CD) the kernel runs inside a function compiled with those
//! features (through `pulp`), so its loops are vectorised; elsewhere it runs
//! as is.
//!
//! A kernel is a struct implementing [`Kernel`] whose `run` is
//! `#[inline(always)]` and calls only `#[inline(always)]` code: that is what
//! puts its body in the vectorised function (a closure would be compiled on
//! its own, without the features).

/// A unit of work to compile for the best available instruction set.
pub(crate) trait Kernel {
    type Output;
    /// Must be `#[inline(always)]`.
    fn run(self) -> Self::Output;
}

struct Dispatch<K>(K);

impl<K: Kernel> pulp::NullaryFnOnce for Dispatch<K> {
    type Output = K::Output;

    #[inline(always)]
    fn call(self) -> K::Output {
        self.0.run()
    }
}

/// Runs `k` with AVX-512 code generation when the CPU has it.
#[inline(always)]
pub(crate) fn vectorized<K: Kernel>(k: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if let Some(v4) = pulp::x86::V4::try_new() {
        return v4.vectorize(Dispatch(k));
    }
    k.run()
}
