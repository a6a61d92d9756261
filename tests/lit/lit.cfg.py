# -*- Python -*-
# lit configuration for Orion-RS.
#
#   cargo build --release --workspace && lit -v tests/lit
#
# Binaries come from $ORION_BIN_DIR, else <workspace>/target/release.
# FileCheck and `not` come from $PATH, else /usr/lib/llvm-19/bin.
# Tests that pipe into upstream mlir-opt say `REQUIRES: mlir-opt`; the feature
# is set when mlir-opt-19 (or mlir-opt) is found. Set ORION_REQUIRE_MLIR_OPT=1
# (CI does) to make a missing mlir-opt a configuration error instead of a skip.

import os
import re
import shutil

import lit.formats
import lit.util

config.name = "Orion-RS"
# lit's internal shell (pipes, redirections, `not` and `cd` built in).
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlir", ".test"]
config.excludes = ["inputs", "lit.cfg.py"]
config.test_source_root = os.path.dirname(os.path.abspath(__file__))
config.test_exec_root = os.path.join(config.test_source_root, "Output")

workspace = os.path.abspath(os.path.join(config.test_source_root, "..", ".."))
bin_dir = os.environ.get("ORION_BIN_DIR") or os.path.join(workspace, "target", "release")
llvm_bin = "/usr/lib/llvm-19/bin"
search_path = os.pathsep.join([os.environ.get("PATH", ""), llvm_bin])

config.environment["PATH"] = os.pathsep.join([bin_dir, search_path])
for var in ("HOME", "TMPDIR", "RUST_BACKTRACE", "RUST_LOG"):
    if var in os.environ:
        config.environment[var] = os.environ[var]


def find_tool(names, path):
    for name in names:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def require(name, path):
    if path is None:
        lit_config.fatal("cannot find %s (searched %s)" % (name, search_path))
    return path


for tool in ("orion-opt", "orion-run"):
    exe = os.path.join(bin_dir, tool)
    if not os.path.isfile(exe):
        lit_config.fatal(
            "%s not found in %s; run `cargo build --release --workspace` "
            "or set ORION_BIN_DIR" % (tool, bin_dir)
        )

filecheck = require("FileCheck", find_tool(["FileCheck", "FileCheck-19"], search_path))
not_tool = require("not", find_tool(["not"], llvm_bin + os.pathsep + search_path))
mlir_opt = find_tool(["mlir-opt-19", "mlir-opt"], search_path)

# Longest first: lit applies substitutions in order.
config.substitutions.append(("%examples", os.path.join(workspace, "examples")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "inputs")))
# A bad input must be refused within 10 s and 1 GB of address space.
config.substitutions.append(("%bounded", "timeout 10 prlimit --as=1073741824 --"))


def tool_pattern(name):
    # The tool name as a whole command word, not part of a path or option.
    return r"(?<![\w/.%-])" + re.escape(name) + r"(?![\w/.-])"


config.substitutions.append((tool_pattern("orion-opt"), os.path.join(bin_dir, "orion-opt")))
config.substitutions.append((tool_pattern("orion-run"), os.path.join(bin_dir, "orion-run")))
config.substitutions.append((tool_pattern("FileCheck"), filecheck))
config.substitutions.append((tool_pattern("not"), not_tool))

if mlir_opt:
    config.available_features.add("mlir-opt")
    config.substitutions.append((tool_pattern("mlir-opt"), mlir_opt))
elif os.environ.get("ORION_REQUIRE_MLIR_OPT") == "1":
    lit_config.fatal("ORION_REQUIRE_MLIR_OPT=1 but mlir-opt-19 is not installed (apt-get install mlir-19-tools)")
else:
    lit_config.warning("mlir-opt-19 not found: tests that REQUIRE mlir-opt are skipped")
