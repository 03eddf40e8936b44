#include "disk_full_rig.h"

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mqtt_test_util.h"
#include "raw_mqtt_client.h"

namespace sluice::testing {

using namespace std::chrono_literals;
namespace mqtt = gateway::mqtt;

std::string MessagePayload(int index, std::int64_t seq) {
  char id[64];
  std::snprintf(id, sizeof id, "p%d-%020lld-", index % 10, static_cast<long long>(seq));
  std::string p(id, kMessageIdBytes);
  p.reserve(kMessageBytes);
  // Filler that differs per message, so that no layer can fold two together.
  std::uint64_t x = static_cast<std::uint64_t>(seq) * 0x9e3779b97f4a7c15ull + index;
  while (p.size() < kMessageBytes) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    p.push_back(static_cast<char>('a' + x % 26));
  }
  return p;
}

std::optional<std::pair<int, std::int64_t>> ParseMessageId(std::string_view payload) {
  if (payload.size() < kMessageIdBytes || payload[0] != 'p' || payload[2] != '-' ||
      payload[23] != '-' || payload[1] < '0' || payload[1] > '9') {
    return std::nullopt;
  }
  std::int64_t seq = 0;
  for (std::size_t i = 3; i < 23; ++i) {
    if (payload[i] < '0' || payload[i] > '9') return std::nullopt;
    seq = seq * 10 + (payload[i] - '0');
  }
  return std::make_pair(payload[1] - '0', seq);
}

std::string Base64Prefix(std::string_view text, std::size_t bytes) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (out.size() >= bytes) break;
    const int v = value(c);
    if (v < 0) break;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// ---------------------------------------------------------------- Publisher

Publisher::~Publisher() { GiveUp(); }

void Publisher::Start() {
  started_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { Run(); });
}

void Publisher::GiveUp() {
  give_up_ = true;
  if (thread_.joinable()) thread_.join();
}

bool Publisher::TakeNew() {
  if (stop_new_.load()) return false;
  if (options_.rate > 0) {
    const double due = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_)
                           .count() * options_.rate;
    if (static_cast<double>(sent_.load()) >= due) return false;
  }
  if (credit_.fetch_sub(1) <= 0) {
    credit_.fetch_add(1);
    return false;
  }
  return true;
}

std::uint16_t Publisher::NextPid() {
  do {
    pid_ = static_cast<std::uint16_t>(pid_ == 65535 ? 1 : pid_ + 1);
  } while (unacked_.contains(pid_));
  return pid_;
}

void Publisher::Run() {
  const std::string topic = "full/p" + std::to_string(options_.index);
  const std::string id = "full-pub-" + std::to_string(options_.index);
  const auto v = options_.version;
  std::vector<std::int64_t> resend;  // refused: published again under a new packet id
  auto append = [&](std::uint16_t pid, std::int64_t seq, bool dup, std::string& out) {
    const std::string payload = MessagePayload(options_.index, seq);
    mqtt::PublishPacket p;
    p.topic = topic;
    p.payload = payload;
    p.qos = 1;
    p.packet_id = pid;
    p.dup = dup;
    mqtt::EncodePublish(v, p, out);
  };
  while (!give_up_.load()) {
    if (stop_new_.load() && unacked_.empty() && resend.empty()) return;
    auto c = RawMqttClient::Open(options_.port);
    if (!c.ok()) {
      std::this_thread::sleep_for(20ms);  // sluice is restarting: poll for its port
      continue;
    }
    auto ack = c->Handshake(MakeConnect(id, v, false, 300));
    if (!ack.ok() || ack->reason != mqtt::ReasonCode::kSuccess) {
      std::this_thread::sleep_for(20ms);
      continue;
    }
    ++connects_;
    std::string out;
    for (const auto& [pid, seq] : unacked_) append(pid, seq, true, out);
    for (;;) {
      while (unacked_.size() < options_.window) {
        std::int64_t seq = 0;
        if (!resend.empty()) {
          seq = resend.back();
          resend.pop_back();
        } else if (TakeNew()) {
          seq = sent_.fetch_add(1);
        } else {
          break;
        }
        const std::uint16_t pid = NextPid();
        unacked_[pid] = seq;
        append(pid, seq, false, out);
      }
      unacked_count_ = unacked_.size() + resend.size();
      if (!out.empty() && !c->Send(out).ok()) break;
      out.clear();
      if (stop_new_.load() && unacked_.empty() && resend.empty()) return;
      auto p = c->Read(50ms);
      if (!p.ok()) {
        if (p.status().code() == StatusCode::kUnavailable && !give_up_.load()) continue;
        break;  // closed by a kill: reconnect and resend
      }
      if (p->header.type != mqtt::PacketType::kPuback) continue;
      mqtt::AckPacket a;
      if (!mqtt::DecodeAck(v, mqtt::PacketType::kPuback, p->header.flags, p->bytes(), a).ok()) {
        break;
      }
      auto it = unacked_.find(a.packet_id);
      if (it == unacked_.end()) continue;
      if (a.reason == mqtt::ReasonCode::kSuccess) {
        acked_.push_back(it->second);
        ++acked_count_;
      } else {
        ++refused_;
        resend.push_back(it->second);
      }
      unacked_.erase(it);
      unacked_count_ = unacked_.size() + resend.size();
    }
  }
}

// ------------------------------------------------------------ SluiceProcess

namespace {

const char* const kPointNames[] = {"segment_create", "log_roll", "manifest_append"};

int CountLines(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.empty() ? 0 : 1;
  return n;
}

std::uintmax_t FileSize(const std::string& file) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(file, ec);
  return ec ? 0 : n;
}

}  // namespace

SluiceProcess::SluiceProcess(std::string config_file, std::string log, std::string kill_log,
                             std::string kill_spec)
    : config_file_(std::move(config_file)),
      log_(std::move(log)),
      kill_log_(std::move(kill_log)),
      kill_spec_(std::move(kill_spec)) {}

SluiceProcess::~SluiceProcess() {
  if (running()) Kill();
}

std::string SluiceProcess::KillPointEnv() const {
  const auto hits = KillPointHits();
  std::string spec;
  std::map<std::string, std::string> odds;
  std::stringstream in(kill_spec_);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    if (!item.empty()) odds[item.substr(0, eq)] = eq == std::string::npos ? "1000" : item.substr(eq + 1);
  }
  for (const char* name : kPointNames) {
    if (!odds.contains(name)) odds[name] = "0";
  }
  for (const auto& [name, permille] : odds) {
    const auto h = hits.find(name);
    spec += (spec.empty() ? "" : ",") + name + "=" +
            (h == hits.end() || h->second == 0 ? std::string("1000") : permille);
  }
  return spec;
}

void SluiceProcess::Start(KillPoints points) {
  if (running()) Kill();
  log_offset_ = FileSize(log_);
  kill_log_lines_at_start_ = CountLines(kill_log_);
  std::vector<std::string> env;
  // Armed or not, explicitly: the test's own environment must not leak in.
  env.push_back("SLUICE_KILL_POINTS=" +
                (points == KillPoints::kArmed ? KillPointEnv() : std::string()));
  env.push_back("SLUICE_KILL_POINT_LOG=" + kill_log_);
  pid_ = SpawnLoggedWithEnv({SLUICE_BIN, "run", "--config", config_file_}, log_, env);
  started_ = std::chrono::steady_clock::now();
  exit_was_kill_point_ = false;
  ++starts_;
}

std::chrono::milliseconds SluiceProcess::uptime() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               started_);
}

bool SluiceProcess::Exited() {
  if (!running()) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  pid_ = -1;
  status_ = status;
  exit_was_kill_point_ = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
                         CountLines(kill_log_) > kill_log_lines_at_start_;
  if (exit_was_kill_point_) {
    ++point_kills_;
  } else {
    ++own_exits_;
  }
  return true;
}

void SluiceProcess::Kill() {
  if (!running() || Exited()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  // A kill point may have fired between the look above and our signal.
  if (CountLines(kill_log_) > kill_log_lines_at_start_) {
    ++point_kills_;
  } else {
    ++kills_;
  }
  pid_ = -1;
  status_ = status;
}

int SluiceProcess::Terminate(std::chrono::seconds limit) {
  if (!running() || Exited()) return status_;
  kill(pid_, SIGTERM);
  const auto end = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > end) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  pid_ = -1;
  status_ = status;
  return status;
}

std::string SluiceProcess::DescribeExit() const {
  char buf[128];
  if (WIFEXITED(status_)) {
    std::snprintf(buf, sizeof buf, "exited with code %d", WEXITSTATUS(status_));
  } else if (WIFSIGNALED(status_)) {
    std::snprintf(buf, sizeof buf, "died of signal %d (%s)%s", WTERMSIG(status_),
                  strsignal(WTERMSIG(status_)),
                  exit_was_kill_point_ ? " at a kill point" : "");
  } else {
    std::snprintf(buf, sizeof buf, "wait status 0x%x", status_);
  }
  return buf;
}

std::string SluiceProcess::LogOfThisRun(std::size_t lines) const {
  std::ifstream in(log_);
  in.seekg(static_cast<std::streamoff>(log_offset_));
  std::vector<std::string> all;
  std::string line;
  while (std::getline(in, line)) all.push_back(line);
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    out += "    | " + all[i] + "\n";
  }
  return out.empty() ? "    | (nothing)\n" : out;
}

std::map<std::string, int> SluiceProcess::KillPointHits() const {
  std::map<std::string, int> hits;
  for (const char* name : kPointNames) hits[name] = 0;
  std::ifstream in(kill_log_);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) ++hits[line];
  }
  return hits;
}

}  // namespace sluice::testing
