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

/// Element-wise modular addition and subtraction of residues (`< p`), the
/// bodies of ciphertext add/sub. Branch-free (`min` of the two candidates),
/// so under [`vectorized`] they become AVX-512 loops bound by memory.
pub(crate) mod elementwise {
    use super::{vectorized, Kernel};

    /// Which combination of `a` and `b` a kernel computes.
    #[derive(Clone, Copy)]
    pub(crate) enum Op {
        Add,
        Sub,
    }

    #[inline(always)]
    fn apply(op: Op, a: u64, b: u64, p: u64) -> u64 {
        match op {
            Op::Add => {
                let s = a + b;
                s.min(s.wrapping_sub(p))
            }
            Op::Sub => {
                let d = a.wrapping_sub(b);
                d.min(d.wrapping_add(p))
            }
        }
    }

    struct Combine<'a> {
        op: Op,
        out: &'a mut [u64],
        a: &'a [u64],
        b: &'a [u64],
        p: u64,
    }

    impl Kernel for Combine<'_> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            let (op, p) = (self.op, self.p);
            for ((o, &a), &b) in self.out.iter_mut().zip(self.a).zip(self.b) {
                *o = apply(op, a, b, p);
            }
        }
    }

    struct CombineAssign<'a> {
        op: Op,
        x: &'a mut [u64],
        y: &'a [u64],
        p: u64,
    }

    impl Kernel for CombineAssign<'_> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            let (op, p) = (self.op, self.p);
            for (x, &y) in self.x.iter_mut().zip(self.y) {
                *x = apply(op, *x, y, p);
            }
        }
    }

    /// `out = a op b mod p`.
    pub(crate) fn into(op: Op, out: &mut [u64], a: &[u64], b: &[u64], p: u64) {
        vectorized(Combine { op, out, a, b, p })
    }

    /// `x = x op y mod p`.
    pub(crate) fn assign(op: Op, x: &mut [u64], y: &[u64], p: u64) {
        vectorized(CombineAssign { op, x, y, p })
    }
}
