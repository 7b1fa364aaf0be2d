#!/usr/bin/python3
# test_k8s_job.py - the README's Kubernetes recipe, run as Kubernetes
# would run it, without a cluster.
#
# Parses examples/k8s-indexed-job.yaml (python3-yaml), checks the Job is
# what the recipe promises (completionMode Indexed, DRONEX_SHARDS equal to
# completions, never a second run of a pod), then runs its container's
# command and args once per completion index, at most "parallelism" at a
# time, with the container's env, JOB_COMPLETION_INDEX=i as the Job
# controller sets it, "dronex" on PATH being the build's binary, and each
# volume mount a local directory (the test's inventory of the suite's sshd
# in the ConfigMap's place, the suite's key and known_hosts in the
# Secret's).  Then "dronex merge" of the results the pods wrote must be the
# document of the same command line without "--shard auto": summary,
# error, exit status, and every drone's status, kind and stdout.
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

passes = fails = 0


def ok(what):
    global passes
    passes += 1
    print("ok:", what)


def bad(what):
    global fails
    fails += 1
    print("FAIL:", what)


def die(what):
    print("test_k8s_job:", what, file=sys.stderr)
    sys.exit(99)


try:
    import yaml
except ImportError:
    die("python3-yaml missing (apt-get install python3-yaml)")

env_in = {}
for v in ("DRONEX_BIN", "DRONEX_SRCDIR", "DX_TEST_PORT", "DX_TEST_USER",
          "DX_TEST_KEY", "DX_TEST_KNOWN_HOSTS"):
    if not os.environ.get(v):
        die("%s is not set (run me through make check)" % v)
    env_in[v] = os.environ[v]
dronex = env_in["DRONEX_BIN"]
manifest = os.path.join(env_in["DRONEX_SRCDIR"], "examples", "k8s-indexed-job.yaml")

with open(manifest) as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
jobs = [d for d in docs if d.get("kind") == "Job"]
if len(jobs) != 1:
    die("%s holds %d Jobs, not one" % (manifest, len(jobs)))
job = jobs[0]
spec = job["spec"]
pod = spec["template"]["spec"]
containers = pod["containers"]
if len(containers) != 1:
    die("the Job's pod has %d containers, not one" % len(containers))
c = containers[0]
completions = int(spec["completions"])
parallelism = int(spec.get("parallelism", 1))
cenv = {e["name"]: str(e["value"]) for e in c.get("env", []) if "value" in e}

# 1. The manifest keeps the recipe's promises.
if spec.get("completionMode") == "Indexed":
    ok("completionMode Indexed")
else:
    bad("completionMode is %r, not Indexed" % spec.get("completionMode"))
if cenv.get("DRONEX_SHARDS") == str(completions):
    ok("DRONEX_SHARDS %s equals completions" % cenv.get("DRONEX_SHARDS"))
else:
    bad("DRONEX_SHARDS %r but completions %d" % (cenv.get("DRONEX_SHARDS"), completions))
if spec.get("backoffLimit") == 0 and pod.get("restartPolicy") == "Never":
    ok("a pod never runs twice (backoffLimit 0, restartPolicy Never)")
else:
    bad("backoffLimit %r, restartPolicy %r: a retry would run the commands again"
        % (spec.get("backoffLimit"), pod.get("restartPolicy")))
argv = list(c.get("command", [])) + list(c.get("args", []))
if any("--shard auto" in a for a in argv):
    ok("the container runs dronex exec --shard auto")
else:
    bad("no --shard auto in %r" % argv)
if completions < 2:
    die("completions %d: nothing to merge" % completions)

work = tempfile.mkdtemp(prefix="dronex-k8s.")
keep = bool(os.environ.get("DRONEX_KEEP"))
try:
    # Each volume mount is a local directory, longest path first so that
    # /etc/dronex does not eat /etc/dronex-ssh.
    mounts = sorted((m["mountPath"] for m in c.get("volumeMounts", [])),
                    key=len, reverse=True)

    def mapped(root):
        return {m: os.path.join(root, m.lstrip("/")) for m in mounts}

    def rewrite(s, where):
        if not mounts:
            return s
        pat = re.compile(r"(?<![\w./-])(%s)(?=[/\s\"']|$)" %
                         "|".join(re.escape(m) for m in mounts))
        return pat.sub(lambda mo: where[mo.group(1)], s)

    # A port of 127.0.0.1 that nothing listens on: bound, read, closed.
    sk = socket.socket()
    sk.bind(("127.0.0.1", 0))
    closed_port = sk.getsockname()[1]
    sk.close()

    pods_root = os.path.join(work, "pods")
    single_root = os.path.join(work, "single")
    for root in (pods_root, single_root):
        for d in mapped(root).values():
            os.makedirs(d, exist_ok=True)

    # The ConfigMap's and the Secret's places: the inventory, key and
    # known_hosts the inventory names, found through the mount that holds
    # each path in the manifest's ConfigMap (identity's directory).
    cm = next((d for d in docs if d.get("kind") == "ConfigMap"), None)
    cm_inv = json.loads(cm["data"]["drones.json"]) if cm else {}
    key_path = cm_inv.get("defaults", {}).get("identity", "/etc/dronex-ssh/id_ed25519")
    kh_path = cm_inv.get("defaults", {}).get("known_hosts", "/etc/dronex-ssh/known_hosts")
    inv_arg = re.search(r"-i\s+(\S+)", " ".join(argv))
    if not inv_arg:
        die("no -i INVENTORY in the container's command")
    for root in (pods_root, single_root):
        where = mapped(root)
        key = rewrite(key_path, where)
        kh = rewrite(kh_path, where)
        os.makedirs(os.path.dirname(key), exist_ok=True)
        shutil.copyfile(env_in["DX_TEST_KEY"], key)
        os.chmod(key, 0o400)
        shutil.copyfile(env_in["DX_TEST_KNOWN_HOSTS"], kh)
        closed = closed_port
        inv = {"defaults": {"port": int(env_in["DX_TEST_PORT"]),
                            "user": env_in["DX_TEST_USER"],
                            "identity": key_path, "known_hosts": kh_path},
               "drones": [{"name": "node-%02d" % i, "host": "127.0.0.1"}
                          for i in range(1, 8)]
               + [{"name": "node-08", "host": "127.0.0.1", "port": closed}]}
        text = rewrite(json.dumps(inv, indent=1), where)
        path = rewrite(inv_arg.group(1), where)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    # "dronex" on PATH is the build's binary.
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir)
    os.symlink(dronex, os.path.join(bindir, "dronex"))
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("SLURM_") and k not in ("JOB_COMPLETION_INDEX",
                                                        "DRONEX_SHARDS",
                                                        "DRONEX_INVENTORY")}
    base["PATH"] = bindir + ":" + base.get("PATH", "/usr/bin:/bin")
    base.update(cenv)

    # 2. One "pod" per index, parallelism at a time.
    pod_argv = [rewrite(a, mapped(pods_root)) for a in argv]
    codes = {}
    for first in range(0, completions, parallelism):
        procs = []
        for i in range(first, min(first + parallelism, completions)):
            e = dict(base, JOB_COMPLETION_INDEX=str(i))
            procs.append((i, subprocess.Popen(pod_argv, env=e, cwd=work,
                                              stderr=subprocess.PIPE)))
        for i, p in procs:
            _, err = p.communicate(timeout=60)
            codes[i] = (p.returncode, err.decode(errors="replace"))
    failed = {i: c for i, c in codes.items() if c[0] != 0}
    if not failed:
        ok("%d pods succeeded" % completions)
    else:
        bad("pods failed: %r" % failed)
    files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(pods_root))
                   for f in fs if f.startswith("shard-") and f.endswith(".json"))
    if len(files) == completions:
        ok("%d shard results written" % len(files))
    else:
        bad("%d shard results for %d pods: %r" % (len(files), completions, files))

    # 3. The merge against the same command line without --shard auto.
    m = subprocess.run([dronex, "merge"] + files, capture_output=True, timeout=60)
    single_argv = [rewrite(a.replace("--shard auto ", ""), mapped(single_root))
                   for a in argv]
    s = subprocess.run(single_argv, env=dict(base, JOB_COMPLETION_INDEX="all"),
                       cwd=work, capture_output=True, timeout=60)
    sfiles = [os.path.join(dp, f) for dp, _, fs in os.walk(single_root)
              for f in fs if f == "shard-all.json"]
    if len(sfiles) != 1:
        die("the single run wrote no result: %s" % s.stderr.decode(errors="replace"))
    with open(sfiles[0]) as f:
        single = json.load(f)
    # The script keeps exec's status to itself; the single document's own
    # exit status is what "dronex merge" of it alone says (0 all ok, else 1).
    one = subprocess.run([dronex, "merge", sfiles[0]], capture_output=True,
                         timeout=60)
    if m.returncode == 1 and one.returncode == 1:
        ok("merge exits 1, as the single run (one drone refused)")
    else:
        bad("merge exited %d, the single run %d (want 1): %s"
            % (m.returncode, one.returncode, m.stderr.decode(errors="replace")))
    try:
        merged = json.loads(m.stdout)
    except ValueError:
        merged = None
        bad("merge printed no JSON: %r" % m.stdout[:200])
    if merged is not None:
        def view(d):
            e = d["error"]
            return (d["status"], e and e["kind"],
                    [(c.get("exit_status"), c.get("stdout")) for c in d["calls"]])
        problems = []
        if merged["summary"] != single["summary"]:
            problems.append("summary %r vs %r" % (merged["summary"], single["summary"]))
        if merged["summary"] != {"drones": 8, "ok": 7, "failed": 1, "skipped": 0}:
            problems.append("summary %r" % merged["summary"])
        if merged["error"] != single["error"]:
            problems.append("error %r vs %r" % (merged["error"], single["error"]))
        if sorted(merged["drones"]) != sorted(single["drones"]):
            problems.append("drones %r vs %r" % (sorted(merged["drones"]),
                                                 sorted(single["drones"])))
        for n, d in single["drones"].items():
            if n in merged["drones"] and view(merged["drones"][n]) != view(d):
                problems.append("%s: %r vs %r" % (n, view(merged["drones"][n]), view(d)))
        out = merged["drones"].get("node-01", {}).get("calls", [{}])[0].get("stdout", "")
        if not out.strip():
            problems.append("node-01 printed nothing: %r" % merged["drones"].get("node-01"))
        if problems:
            bad("the merge differs from the single run: " + "; ".join(problems))
        else:
            ok("the merge is the single run, drone for drone")
finally:
    if not keep:
        shutil.rmtree(work, ignore_errors=True)

print("test_k8s_job: %d passed, %d failed" % (passes, fails))
sys.exit(1 if fails else 0)
