"""Drives a Flotilla coordinator with the unmodified python-gitlab library.

Usage: python3 python_gitlab_suite.py SCENARIO   (environment: FLOTILLA_URL, FLOTILLA_TOKEN,
FLOTILLA_CI_YAML, FLOTILLA_RUNNER_ID). Each scenario checks the objects the library returns, not
only that a call succeeded; a failed check raises with what was expected and what came back.
Prints one "ok <check>" line per check, and "scenario <name> passed" at the end.
"""
import io
import os
import sys
import time
import zipfile

import gitlab

URL = os.environ["FLOTILLA_URL"]
TOKEN = os.environ["FLOTILLA_TOKEN"]
CI_YAML = os.environ.get("FLOTILLA_CI_YAML", "")
RUNNER_ID = int(os.environ.get("FLOTILLA_RUNNER_ID", "0"))
SUFFIX = str(int(time.time() * 1000) % 10_000_000)

gl = gitlab.Gitlab(URL, private_token=TOKEN, timeout=30)


def check(cond, what, got=None):
    if not cond:
        raise AssertionError(f"{what} (got {got!r})")
    print(f"ok {what}", flush=True)


def wait_for(fn, what, attempts=900, delay=0.2):
    for _ in range(attempts):
        value = fn()
        if value:
            return value
        time.sleep(delay)
    raise AssertionError(f"gave up waiting for {what}")


def new_project(name):
    project = gl.projects.create({"name": f"{name}-{SUFFIX}"})
    check(isinstance(project.id, int) and project.path == f"{name}-{SUFFIX}", "projects.create", project.attributes)
    return project


def project_with_ci(name):
    project = new_project(name)
    f = project.files.create(
        {"file_path": ".gitlab-ci.yml", "branch": "main", "content": CI_YAML, "commit_message": "add ci"}
    )
    check(f.file_path == ".gitlab-ci.yml" and f.branch == "main", "files.create", f.attributes)
    return project


def pipeline_status(project, pipeline_id, statuses):
    def poll():
        p = project.pipelines.get(pipeline_id)
        return p if p.status in statuses else None

    return wait_for(poll, f"pipeline {pipeline_id} to be {statuses}")


def job_named(project, pipeline, name, statuses):
    def poll():
        for job in pipeline.jobs.list(get_all=True):
            if job.name == name and job.status in statuses:
                return project.jobs.get(job.id)
        return None

    return wait_for(poll, f"job {name} to be {statuses}")


def scenario_users_version():
    gl.auth()
    check(gl.user.username == "root" and gl.user.id == 1, "auth() and gl.user", gl.user.attributes)
    check(gl.user.is_admin is True and "@" in gl.user.email, "current user fields", gl.user.attributes)
    version, revision = gl.version()
    check(version.endswith("-flotilla") and revision.startswith("flotilla-"), "version()", (version, revision))
    users = gl.users.list(username="root")
    check([u.username for u in users] == ["root"], "users.list(username=)", [u.attributes for u in users])
    root = gl.users.get(1)
    check(root.name == "Administrator" and root.state == "active", "users.get", root.attributes)
    try:
        gl.users.get(987654)
        check(False, "users.get unknown raises")
    except gitlab.exceptions.GitlabGetError as err:
        check(err.response_code == 404, "users.get unknown is 404", err.response_code)


def scenario_projects():
    project = new_project("py-projects")
    by_path = gl.projects.get(f"root/py-projects-{SUFFIX}")
    check(by_path.id == project.id, "projects.get by path", by_path.attributes)
    listed = [p.id for p in gl.projects.list(get_all=True)]
    check(project.id in listed, "projects.list", listed)
    project.description = "edited by python-gitlab"
    project.ci_config_path = ".gitlab-ci.yml"
    project.save()
    again = gl.projects.get(project.id)
    check(again.description == "edited by python-gitlab", "project.save()", again.attributes)
    project.delete()
    try:
        gl.projects.get(project.id)
        check(False, "deleted project is gone")
    except gitlab.exceptions.GitlabGetError as err:
        check(err.response_code == 404, "projects.get after delete is 404", err.response_code)


def scenario_repository():
    project = new_project("py-repo")
    project.files.create({"file_path": "README.md", "branch": "main", "content": "hello\n", "commit_message": "readme"})
    f = project.files.get(file_path="README.md", ref="main")
    check(f.decode() == b"hello\n", "files.get + decode", f.attributes)
    f.content = "hello again\n"
    f.save(branch="main", commit_message="update readme")
    check(project.files.get(file_path="README.md", ref="main").decode() == b"hello again\n", "file.save()")
    raw = project.files.raw(file_path="README.md", ref="main")
    check(raw == b"hello again\n", "files.raw", raw)
    branch = project.branches.create({"branch": "feature", "ref": "main"})
    check(branch.name == "feature" and len(branch.commit["id"]) == 40, "branches.create", branch.attributes)
    names = sorted(b.name for b in project.branches.list(get_all=True))
    check(names == ["feature", "main"], "branches.list", names)
    check(project.branches.get("feature").name == "feature", "branches.get")
    commit = project.commits.create(
        {
            "branch": "feature",
            "commit_message": "add two files",
            "actions": [
                {"action": "create", "file_path": "a.txt", "content": "a"},
                {"action": "create", "file_path": "dir/b.txt", "content": "b"},
            ],
        }
    )
    check(commit.title == "add two files" and len(commit.id) == 40, "commits.create", commit.attributes)
    got = project.commits.get(commit.id)
    check(got.id == commit.id and got.parent_ids, "commits.get", got.attributes)
    history = [c.id for c in project.commits.list(ref_name="feature", get_all=True)]
    check(history[0] == commit.id and len(history) == 3, "commits.list", history)
    diff = got.diff()
    check(sorted(d["new_path"] for d in diff) == ["a.txt", "dir/b.txt"], "commit.diff()", diff)
    tree = sorted(t["path"] for t in project.repository_tree(ref="feature", get_all=True))
    check(tree == ["README.md", "a.txt", "dir"], "repository_tree", tree)
    compare = project.repository_compare("main", "feature")
    check(len(compare["commits"]) == 1, "repository_compare", compare)
    project.branches.delete("feature")
    check(sorted(b.name for b in project.branches.list(get_all=True)) == ["main"], "branches.delete")


def scenario_variables():
    project = new_project("py-vars")
    v = project.variables.create({"key": "DEPLOY_TOKEN", "value": "s3cr3t-value", "masked": True})
    check(v.key == "DEPLOY_TOKEN" and v.masked is True and v.value == "s3cr3t-value", "variables.create", v.attributes)
    check(project.variables.get("DEPLOY_TOKEN").value == "s3cr3t-value", "variables.get")
    v.value = "other-value-1"
    v.save()
    check(project.variables.get("DEPLOY_TOKEN").value == "other-value-1", "variable.save()")
    project.variables.create({"key": "PLAIN", "value": "x", "variable_type": "file"})
    keys = sorted((x.key, x.variable_type) for x in project.variables.list(get_all=True))
    check(keys == [("DEPLOY_TOKEN", "env_var"), ("PLAIN", "file")], "variables.list", keys)
    project.variables.delete("PLAIN")
    check([x.key for x in project.variables.list(get_all=True)] == ["DEPLOY_TOKEN"], "variables.delete")
    try:
        project.variables.create({"key": "BAD", "value": "short", "masked": True})
        check(False, "masked short value refused")
    except gitlab.exceptions.GitlabCreateError as err:
        check(err.response_code == 400, "masked short value is refused with 400", err.response_code)


def scenario_pipelines():
    project = project_with_ci("py-pipes")
    pipeline = project.pipelines.create(
        {"ref": "main", "variables": [{"key": "DEPLOY_TARGET", "value": "staging"}]}
    )
    check(pipeline.ref == "main" and pipeline.source == "api", "pipelines.create", pipeline.attributes)
    pvars = [(v.key, v.value) for v in pipeline.variables.list()]
    check(pvars == [("DEPLOY_TARGET", "staging")], "pipeline.variables.list", pvars)
    build = job_named(project, pipeline, "build", ["success"])
    trace = build.trace().decode()
    check("building for staging" in trace, "job.trace()", trace[-500:])
    archive = zipfile.ZipFile(io.BytesIO(build.artifacts()))
    check(archive.read("out/result.txt") == b"result for staging\n", "job.artifacts()", archive.namelist())
    check(build.artifacts_file["filename"] == "artifacts.zip", "job artifacts_file", build.attributes)
    deploy = job_named(project, pipeline, "deploy", ["manual"])
    deploy.play()
    deploy = job_named(project, pipeline, "deploy", ["success"])
    check("deploying staging" in deploy.trace().decode(), "job.play() ran the manual job")
    retried = build.retry()
    check(retried["id"] != build.id and retried["name"] == "build", "job.retry()", retried)
    job_named(project, pipeline, "build", ["success"])
    done = pipeline_status(project, pipeline.id, ["success"])
    check(done.status == "success", "pipeline succeeds", done.attributes)
    erased = project.jobs.get(build.id)
    erased.erase()
    erased = project.jobs.get(build.id)
    check(erased.erased_at is not None and erased.trace() == b"", "job.erase()", erased.attributes)
    listed = [p.id for p in project.pipelines.list(get_all=True)]
    check(pipeline.id in listed, "pipelines.list", listed)
    project.pipelines.get(pipeline.id).delete()
    check(pipeline.id not in [p.id for p in project.pipelines.list(get_all=True)], "pipeline.delete()")


def scenario_cancel_retry():
    project = project_with_ci("py-cancel")
    pipeline = project.pipelines.create({"ref": "main", "variables": [{"key": "SLOW", "value": "1"}]})
    slow = job_named(project, pipeline, "slow", ["running"])
    slow.cancel()
    slow = job_named(project, pipeline, "slow", ["canceled"])
    check(slow.status == "canceled", "job.cancel()", slow.attributes)
    canceled = pipeline_status(project, pipeline.id, ["canceled"])
    check(canceled.status == "canceled", "pipeline canceled after its job", canceled.attributes)
    canceled.retry()
    job_named(project, pipeline, "slow", ["running"])
    pipeline.cancel()
    final = pipeline_status(project, pipeline.id, ["canceled"])
    check(final.status == "canceled", "pipeline.cancel()", final.attributes)
    jobs = [(j.name, j.status) for j in pipeline.jobs.list(get_all=True, include_retried=True)]
    check(jobs.count(("slow", "canceled")) == 2, "retry made a new job, both canceled", jobs)


def scenario_runners():
    runners = gl.runners.list(get_all=True)
    check(RUNNER_ID in [r.id for r in runners], "runners.list", [r.attributes for r in runners])
    check(RUNNER_ID in [r.id for r in gl.runners_all.list(get_all=True)], "runners_all.list")
    runner = gl.runners.get(RUNNER_ID)
    check(runner.status == "online" and runner.runner_type == "instance_type", "runners.get", runner.attributes)
    runner.description = "edited-by-python"
    runner.maximum_timeout = 3600
    runner.save()
    again = gl.runners.get(RUNNER_ID)
    check(again.description == "edited-by-python" and again.maximum_timeout == 3600, "runner.save()", again.attributes)
    project = project_with_ci("py-runners")
    check(RUNNER_ID in [r.id for r in project.runners.list(get_all=True)], "project.runners.list")
    pipeline = wait_for(lambda: project.pipelines.list(get_all=True), "the push pipeline")[0]
    job = job_named(project, pipeline, "build", ["success"])
    jobs = runner.jobs.list(get_all=True)
    mine = [j for j in jobs if j.id == job.id]
    check(mine and mine[0].project["id"] == project.id, "runner.jobs.list", [j.attributes for j in jobs][:3])
    check(jobs[0].id >= jobs[-1].id, "runner jobs newest first", [j.id for j in jobs])


def scenario_lint():
    project = new_project("py-lint")
    good = project.ci_lint.create({"content": CI_YAML})
    check(good.valid is True and good.errors == [], "project.ci_lint.create valid", good.attributes)
    bad = project.ci_lint.create({"content": "job:\n  stage: nope\n  script: [x]\n"})
    check(bad.valid is False and bad.errors, "project.ci_lint.create invalid", bad.attributes)
    top = gl.ci_lint.create({"content": CI_YAML})
    check(top.status == "valid" or getattr(top, "valid", False) is True, "ci_lint.create", top.attributes)


SCENARIOS = {
    "users_version": scenario_users_version,
    "projects": scenario_projects,
    "repository": scenario_repository,
    "variables": scenario_variables,
    "pipelines": scenario_pipelines,
    "cancel_retry": scenario_cancel_retry,
    "runners": scenario_runners,
    "lint": scenario_lint,
}

if __name__ == "__main__":
    name = sys.argv[1]
    SCENARIOS[name]()
    print(f"scenario {name} passed", flush=True)
