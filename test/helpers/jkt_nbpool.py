"""jupyter_kernel_test against the installed `nbpool` kernelspec.

Run by test/kernel-interop.test.ts with JUPYTER_PATH pointing at a freshly installed spec:
    /usr/bin/python3 -m unittest -v jkt_nbpool
The samples are TypeScript as a notebook user writes it.
"""

import unittest

import jupyter_kernel_test as jkt


class NbpoolKernelTests(jkt.KernelTests):
    kernel_name = "nbpool"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("to stderr")'

    completion_samples = [{"text": "Math.ab", "matches": {"abs"}}]
    complete_code_samples = ["1 + 1", 'console.log("hi")', "function f(x: number) { return x * 2; }"]
    incomplete_code_samples = ["function f(x: number) {", "const xs = [1, 2,", "if (true) {"]
    invalid_code_samples = ["let 1x = 2;", "const = 5;"]

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": '"a" + "b"', "result": "'ab'"},
        {"code": "[1, 2, 3].map((x) => x * 2)", "result": "[ 2, 4, 6 ]"},
    ]
    code_display_data = [
        {"code": 'import * as tslab from "tslab";\ntslab.display.html("<b>bold</b>")', "mime": "text/html"},
        {"code": 'import * as tslab from "tslab";\ntslab.display.markdown("*hi*")', "mime": "text/markdown"},
    ]
    code_generate_error = 'throw new Error("boom")'
    code_inspect_sample = "Math"


if __name__ == "__main__":
    unittest.main()
