#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "finegrain/chain/jobs.hpp"
#include "finegrain/classify/classifier.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/data/table.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace fg;
using namespace fg::jobs;

namespace {
Manifest three_images() { return {{"a/x.jpg", "a"}, {"a/y.jpg", "a"}, {"b/z.jpg", "b"}}; }

// A table as fg-extract writes it for `shard`, skipping the paths in `skip`.
void write_shard_table(const std::string& path, const Manifest& shard,
                       const std::set<std::string>& skip,
                       const std::vector<std::string>& suffixes = {""}) {
  TableHeader header;
  header.dim = 2;
  header.classes = manifest_classes(shard);
  TableWriter writer(path, header);
  float v[2] = {1, 2};
  for (const auto& e : shard) {
    if (skip.count(e.path)) continue;
    const int label = int(std::find(header.classes.begin(), header.classes.end(), e.label) -
                          header.classes.begin());
    for (const auto& s : suffixes) writer.write(e.path + s, label, v);
  }
  writer.commit();
}
}  // namespace

TEST_CASE("jobs: shards are contiguous, in order, cover every row once and differ by at most one") {
  const auto r = shard_ranges(10, 4);
  REQUIRE(r.size() == 4);
  CHECK(r[0].begin == 0);
  CHECK(r[0].end == 3);
  CHECK(r[1].begin == 3);
  CHECK(r[1].end == 6);
  CHECK(r[2].begin == 6);
  CHECK(r[2].end == 8);
  CHECK(r[3].begin == 8);
  CHECK(r[3].end == 10);
  for (std::size_t rows : {1, 7, 48, 960, 11788})
    for (std::size_t jobs : {1, 2, 3, 4, 7}) {
      if (jobs > rows) continue;
      const auto s = shard_ranges(rows, jobs);
      std::size_t next = 0, smallest = rows, largest = 0;
      for (const auto& x : s) {
        CHECK(x.begin == next);
        next = x.end;
        smallest = std::min(smallest, x.size());
        largest = std::max(largest, x.size());
      }
      CHECK(next == rows);
      CHECK(largest - smallest <= 1);
    }
  CHECK_THROWS_AS(shard_ranges(3, 4), Error);
  CHECK_THROWS_AS(shard_ranges(3, 0), Error);
}

TEST_CASE("jobs: JOB=1:N ranges and templating") {
  const JobRange r = parse_job_range("JOB=1:4");
  CHECK(r.name == "JOB");
  CHECK(r.first == 1);
  CHECK(r.last == 4);
  const JobRange s = parse_job_range("SPLIT=3:5");
  CHECK(s.name == "SPLIT");
  CHECK(s.first == 3);
  CHECK(s.last == 5);
  for (const char* bad : {"JOB=0:4", "JOB=4:1", "JOB=1", "=1:2", "J-B=1:2", "JOB=a:2", "JOB 1:2"})
    CHECK_THROWS_AS(parse_job_range(bad), UsageError);
  CHECK(substitute_job("exp/log/extract.JOB.log", "JOB", 12) == "exp/log/extract.12.log");
  CHECK(substitute_job("JOB-JOB", "JOB", 3) == "3-3");
  CHECK(substitute_job("no name here", "JOB", 3) == "no name here");
}

TEST_CASE("jobs: the runner's options end at the stage word; stage options are taken out by name") {
  std::vector<std::string> words = {"fg-jobs", "--engine", "extract", "--jobs=3", "-q",
                                    "extract", "--model",  "m",       "x.tsv"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  po::options_description runner("runner");
  RunnerOptions::add_options(runner);
  CHECK(find_stage(int(argv.size()), argv.data(), runner) ==
        5);  // "--engine extract" is an option and its value
  std::vector<std::string> none = {"fg-jobs", "--engine", "local"};
  std::vector<char*> argv2;
  for (auto& w : none) argv2.push_back(w.data());
  CHECK(find_stage(int(argv2.size()), argv2.data(), runner) == 3);

  std::vector<std::string> opts = {"--model",     "m",        "--skipped", "s.tsv",
                                   "--threads=2", "--resume", "--flip"};
  CHECK(take_option(opts, "skipped", true) == std::optional<std::string>("s.tsv"));
  CHECK(take_option(opts, "threads", true) == std::optional<std::string>("2"));
  CHECK(take_option(opts, "resume", false) == std::optional<std::string>(""));
  CHECK(!take_option(opts, "batch", true).has_value());
  CHECK(opts == std::vector<std::string>{"--model", "m", "--flip"});
  std::vector<std::string> dangling = {"--skipped"};
  CHECK_THROWS_AS(take_option(dangling, "skipped", true), UsageError);
}

TEST_CASE("jobs: --engine-opts words and shell quoting") {
  CHECK(split_words("--partition=cpu  --mem=4G") ==
        std::vector<std::string>{"--partition=cpu", "--mem=4G"});
  CHECK(split_words("--sshloginfile 'my hosts' \"a \\\"b\\\"\" c\\ d") ==
        std::vector<std::string>{"--sshloginfile", "my hosts", "a \"b\"", "c d"});
  CHECK(split_words("").empty());
  CHECK_THROWS_AS(split_words("'open"), UsageError);
  CHECK(shell_quote("plain/path-1.fgt") == "plain/path-1.fgt");
  CHECK(shell_quote("it's here") == "'it'\\''s here'");
  CHECK(shell_quote("") == "''");
  // bash reads back what was quoted.
  TempDir dir;
  const std::string word = "a 'b' \"c\" $HOME `x` \\ *";
  const std::string script = dir.file("q.sh");
  write_bytes(script,
              "printf '%s' " + shell_quote(word) + " > " + shell_quote(dir.file("out")) + "\n");
  REQUIRE(run_command({"bash", script}).status == 0);
  CHECK(read_bytes(dir.file("out")) == word);
}

TEST_CASE(
    "jobs: a job script logs, runs its command in its directory, and writes its status only at the "
    "end") {
  TempDir dir;
  const std::string log = dir.file("j.log"), status = dir.file("j.status"),
                    script = dir.file("j.sh");
  write_bytes(script, job_script_text(2, 4, "pwd; echo to-stderr >&2; exit 3", log, status,
                                      dir.path.string()));
  const CommandResult r = run_command({"bash", script});
  CHECK(r.status == 3);
  CHECK(r.out.empty());  // everything went to the log
  CHECK(read_bytes(status) == "3\n");
  const std::string text = read_bytes(log);
  CHECK(text.find("# fg-jobs: job 2 of 4 on ") != std::string::npos);
  CHECK(text.find("\n" + dir.path.string() + "\n") != std::string::npos);
  CHECK(text.find("to-stderr") != std::string::npos);
  CHECK(text.find("# fg-jobs: exit status 3") != std::string::npos);
  // Killed before it ends: no status (an old one is removed first).
  write_bytes(script, job_script_text(2, 4, "kill -9 $$", log, status, dir.path.string()));
  CHECK(run_command({"bash", script}).status == 128 + 9);
  CHECK(!fs::exists(status));
}

TEST_CASE(
    "jobs: a shard's table is complete only when read whole and its keys are the shard's images") {
  TempDir dir;
  const Manifest shard = three_images();
  const std::string t = dir.file("t.fgt"), s = dir.file("s.tsv");
  write_bytes(s, "");
  write_shard_table(t, shard, {});
  CHECK(check_table_shard(t, s, shard) == "");
  // Augmented rows (key#suffix) belong to their image.
  write_shard_table(t, shard, {}, {"", "#flip"});
  CHECK(check_table_shard(t, s, shard) == "");
  // A skipped image has no row and is listed.
  write_shard_table(t, shard, {"a/y.jpg"});
  CHECK(check_table_shard(t, s, shard).find("row 'b/z.jpg' where 'a/y.jpg' was expected") !=
        std::string::npos);
  write_bytes(s, "a/y.jpg\tcannot open\n");
  CHECK(check_table_shard(t, s, shard) == "");
  // The skipped list must exist (fg-extract writes it last).
  fs::remove(s);
  CHECK(check_table_shard(t, s, shard).find("missing") != std::string::npos);
  write_bytes(s, "");
  // The last image missing: incomplete.
  write_shard_table(t, shard, {"b/z.jpg"});
  CHECK(check_table_shard(t, s, shard).find("no row for 'b/z.jpg'") != std::string::npos);
  // Another shard's table.
  write_shard_table(t, {{"c/w.jpg", "c"}}, {});
  CHECK(check_table_shard(t, s, shard).find("'a/x.jpg' was expected") != std::string::npos);
  // A label that is not the manifest's.
  write_shard_table(t, {{"a/x.jpg", "a"}, {"a/y.jpg", "b"}, {"b/z.jpg", "b"}}, {});
  CHECK(check_table_shard(t, s, shard).find("has label 'b'") != std::string::npos);
  // Cut off: not a table any more.
  write_shard_table(t, shard, {});
  const std::string bytes = read_bytes(t);
  write_bytes(t, bytes.substr(0, bytes.size() - 9));
  CHECK(check_table_shard(t, s, shard).find("truncated") != std::string::npos);
  fs::remove(t);
  CHECK(check_table_shard(t, s, shard).find("missing") != std::string::npos);
}

TEST_CASE(
    "jobs: a shard's predictions are complete only when every image not skipped has its row") {
  TempDir dir;
  const Manifest shard = three_images();
  const std::string p = dir.file("p.tsv"), s = dir.file("s.tsv");
  write_bytes(s, "");
  const std::vector<std::string> classes = {"a", "b"};
  auto write_predictions = [&](const Manifest& rows) {
    std::string text = predictions_header(classes, 1);
    for (const auto& e : rows) text += prediction_line(e.path, e.label, {{1, 0.9}}, classes);
    write_bytes(p, text);
  };
  write_predictions(shard);
  CHECK(check_predictions_shard(p, s, shard) == "");
  write_predictions({shard[0], shard[1]});
  CHECK(check_predictions_shard(p, s, shard).find("no row for 'b/z.jpg'") != std::string::npos);
  write_bytes(s, "b/z.jpg\tcannot open\n");
  CHECK(check_predictions_shard(p, s, shard) == "");
  write_predictions({shard[1], shard[0]});
  CHECK(!check_predictions_shard(p, s, shard).empty());
}

TEST_CASE("jobs: the runner's options read back as set, and default to the struct's defaults") {
  const auto parse = parse_option_group<RunnerOptions>;
  const RunnerOptions d, none = parse({});
  CHECK(none.jobs == d.jobs);
  CHECK(none.jobs == 4);
  CHECK(none.retries == d.retries);
  CHECK(none.engine.kind == d.engine.kind);
  CHECK(none.engine.max_running == d.engine.max_running);
  CHECK(none.engine.extra.empty());
  CHECK(none.workdir.empty());
  CHECK(!none.clean);
  const RunnerOptions set =
      parse({"--engine", "slurm", "--jobs", "16", "--max-running=3", "--retries", "0", "--workdir",
             "w", "--clean", "--engine-opts", "--partition=cpu '--comment=a b'"});
  CHECK(set.engine.kind == EngineKind::slurm);
  CHECK(set.jobs == 16);
  CHECK(set.engine.max_running == 3);
  CHECK(set.retries == 0);
  CHECK(set.workdir == "w");
  CHECK(set.clean);
  CHECK(set.engine.extra == std::vector<std::string>{"--partition=cpu", "--comment=a b"});
  CHECK_THROWS_AS(parse({"--engine", "pbs"}), UsageError);
}

TEST_CASE(
    "jobs: run executes every job on the local engine, retries failures and names what failed") {
  TempDir dir;
  const std::string cwd = fs::current_path().string();
  fs::current_path(dir.path);
  RunnerOptions options;
  options.engine.kind = EngineKind::local;
  options.retries = 0;
  log::set_level(log::Level::quiet);
  // Job n writes n*n into out.n; at most 2 at once.
  options.engine.max_running = 2;
  CHECK(run_stage(options, {"run", "JOB=1:5", "logs/JOB.log", "echo $((JOB*JOB)) > out.JOB"}) == 0);
  for (int j = 1; j <= 5; ++j) {
    CHECK(read_bytes(dir.file(cat("out.", j))) == cat(j * j, "\n"));
    CHECK(read_bytes(dir.file(cat("logs/", j, ".log"))).find("exit status 0") != std::string::npos);
  }
  // Several arguments are quoted as they are: the '$' reaches printf untouched.
  CHECK(run_stage(options, {"run", "N=1:2", "logs/q.N.log", "printf", "%s-N", "$HOME", "--"}) == 0);
  CHECK(read_bytes(dir.file("logs/q.1.log")).find("$HOME-1") != std::string::npos);
  // Job 2 fails the first time only: one retry makes it succeed.
  options.retries = 1;
  CHECK(run_stage(options,
                  {"run", "JOB=1:3", "logs/r.JOB.log",
                   "echo x >> tries.JOB; [ JOB != 2 ] || [ $(wc -l < tries.JOB) -ge 2 ]"}) == 0);
  CHECK(read_bytes(dir.file("tries.1")) == "x\n");
  CHECK(read_bytes(dir.file("tries.2")) == "x\nx\n");
  // Job 3 always fails: after 1 + 2 attempts the error names it and its log.
  options.retries = 2;
  try {
    run_stage(options, {"run", "JOB=1:3", "logs/f.JOB.log", "echo y >> fail.JOB; [ JOB != 3 ]"});
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find("1 of 3 jobs failed after 3 attempts: job 3 (log " + dir.file("logs/f.3.log") +
                    ")") != std::string::npos);
  }
  CHECK(read_bytes(dir.file("fail.3")) == "y\ny\ny\n");
  CHECK(read_bytes(dir.file("fail.1")) == "y\n");
  CHECK_THROWS_AS(run_stage(options, {"run", "JOB=1:3", "logs/same.log", "true"}), UsageError);
  CHECK_THROWS_AS(run_stage(options, {"bogus"}), UsageError);
  log::set_level(log::Level::normal);
  fs::current_path(cwd);
}
