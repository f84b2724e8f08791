"""scripts/generate_stubs.sh for all four languages, into a temporary folder:
the Python stubs import, the Node TypeScript types are there, the Go stubs
build and run with Debian's Go packages (GOPATH mode), the Java stubs compile
and run with Debian's jars; and `buf generate` (buf.gen.yaml) writes the same
files as the script. google.rpc is generated for no language.

Run by run_examples_test.sh (paths from there).
"""

import glob
import os
import shutil
import subprocess
import sys
import unittest

import testing_util

RUNFILES = os.environ["RUNFILES"]
TMP = os.environ.get("TEST_TMPDIR", "/tmp")
HERE = os.path.join(RUNFILES, "tests", "examples")
JARS = ["protobuf", "grpc-api", "grpc-stub", "grpc-protobuf", "grpc-protobuf-lite",
        "proto-google-common-protos", "guava", "geronimo-annotation-1.3-spec"]
GO_IMPORT_PATH = "github.com/llm-gateway/llm-gateway/gen/go/llmgateway/v1"  # go_package


def run(argv, **kwargs):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, **kwargs)
    if done.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (argv[0], done.returncode,
                                                          done.stdout, done.stderr))
    return done.stdout


def files(root, skip=()):
    return sorted(os.path.relpath(path, root)
                  for path in glob.glob(os.path.join(root, "**", "*"), recursive=True)
                  if os.path.isfile(path) and os.path.basename(path) not in skip)


class GenerateStubsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = os.path.join(TMP, "gen")
        shutil.rmtree(cls.out, ignore_errors=True)
        env = dict(os.environ, NODE_MODULES=os.environ["NODE_MODULES"])
        run([os.path.join(RUNFILES, "scripts", "generate_stubs.sh"), "--out", cls.out], env=env)

    def test_no_google_rpc_is_generated(self):
        # (The TypeScript types do declare google.rpc.Status: types only,
        # for the messages the .proto files reference.)
        for lang in ("python", "go", "java"):
            with self.subTest(lang=lang):
                generated = files(os.path.join(self.out, lang))
                self.assertTrue(generated)
                self.assertFalse([f for f in generated if "google" in f.split(os.sep)], generated)

    def test_python_stubs_import(self):
        # google.rpc from the stubs run_examples_test.sh made (on a machine
        # with googleapis-common-protos, from there).
        env = dict(os.environ, PYTHONPATH=os.path.join(self.out, "python") + ":" +
                   os.environ["PYTHONPATH"])
        code = ("from llmgateway.v1 import batch_jobs_pb2_grpc, generation_pb2_grpc, models_pb2_grpc\n"
                "from llmgateway.v1 import content_pb2, generation_pb2\n"
                "print(generation_pb2.__file__)\n"
                "print(generation_pb2_grpc.GenerationStub.__name__, batch_jobs_pb2_grpc.BatchJobsStub.__name__,\n"
                "      models_pb2_grpc.ModelsStub.__name__)\n"
                "r = generation_pb2.BatchGenerateResponse(index=1)\n"
                "r.error.message = 'no such model'\n"
                "print(generation_pb2.BatchGenerateResponse.FromString(r.SerializeToString()).error.message)\n")
        printed = run([sys.executable, "-c", code], env=env).splitlines()
        self.assertEqual(printed[0], os.path.join(self.out, "python", "llmgateway", "v1",
                                                  "generation_pb2.py"))
        self.assertEqual(printed[1:], ["GenerationStub BatchJobsStub ModelsStub", "no such model"])
        self.assertTrue(os.path.exists(os.path.join(self.out, "python", "llmgateway", "v1",
                                                    "generation_pb2.pyi")))

    def test_node_typescript_types(self):
        node = os.path.join(self.out, "node")
        for name in ("generation.ts", "batch_jobs.ts", "models.ts",
                     "llmgateway/v1/Generation.ts", "llmgateway/v1/GenerateRequest.ts"):
            self.assertTrue(os.path.exists(os.path.join(node, name)), name)
        with open(os.path.join(node, "llmgateway", "v1", "Generation.ts")) as f:
            self.assertIn("export interface GenerationClient extends grpc.Client", f.read())

    def test_go_stubs_build_and_run(self):
        gopath = os.path.join(TMP, "gopath")
        shutil.rmtree(gopath, ignore_errors=True)
        shutil.copytree(os.path.join(self.out, "go", "llmgateway", "v1"),
                        os.path.join(gopath, "src", GO_IMPORT_PATH))
        check = os.path.join(gopath, "src", "check")
        os.makedirs(check)
        shutil.copy(os.path.join(HERE, "check_stubs.go"), check)
        env = dict(os.environ, GO111MODULE="off", GOFLAGS="", GOPATH=gopath + ":/usr/share/gocode",
                   GOCACHE=os.path.join(TMP, "gocache"))
        self.assertEqual(run(["go", "run", "."], cwd=check, env=env),
                         "llmgateway.v1.Generation 3 no such model MODEL_NOT_FOUND\n")

    def test_java_stubs_compile_and_run(self):
        classes = os.path.join(TMP, "classes")
        os.makedirs(classes, exist_ok=True)
        classpath = ":".join("/usr/share/java/%s.jar" % jar for jar in JARS)
        sources = glob.glob(os.path.join(self.out, "java", "**", "*.java"), recursive=True)
        # The JIT's first tier only: a third of javac's time for a one-off compile.
        quick = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
        run(["javac"] + ["-J" + flag for flag in quick] +
            ["-nowarn", "-d", classes, "-cp", classpath,
             os.path.join(HERE, "CheckStubs.java")] + sources)
        self.assertEqual(run(["java"] + quick + ["-cp", classes + ":" + classpath, "CheckStubs"]),
                         "llmgateway.v1.Generation 3 no such model\n")

    def test_buf_generate_writes_the_same_files(self):
        # A copy of the buf workspace (buf.yaml's modules) with buf.gen.yaml.
        workspace = os.path.join(TMP, "bufws")
        shutil.rmtree(workspace, ignore_errors=True)
        os.makedirs(workspace)
        for name in ("buf.yaml", "buf.gen.yaml"):
            shutil.copy(os.path.join(RUNFILES, name), workspace)
        shutil.copytree(os.path.join(RUNFILES, "proto"), os.path.join(workspace, "proto"))
        shutil.copytree(os.environ["GOOGLEAPIS"], os.path.join(workspace, "bazel", "googleapis"))
        out = os.path.join(TMP, "bufgen")
        run([os.path.join(os.environ["NODE_MODULES"], ".bin", "buf"), "generate", "-o", out],
            cwd=workspace)
        for lang in ("python", "go", "java"):
            with self.subTest(lang=lang):
                self.assertEqual(files(os.path.join(out, "gen", lang)),
                                 files(os.path.join(self.out, lang), skip=("__init__.py",)))


if __name__ == "__main__":
    testing_util.main(__name__)
