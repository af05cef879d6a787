#include "schedule/lambda_runtime.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/clock.h"
#include "common/curl_call.h"
#include "extract/http_client.h"
#include "pipeline/etl_run.h"

namespace covid {
namespace {

constexpr const char* kApi = "/2018-06-01/runtime";

class StringSink final : public BodySink {
 public:
  void write(std::string_view bytes) override {
    if (body.size() < (size_t{6} << 20)) body.append(bytes);  // Lambda's payload limit
  }
  std::string body;
};

std::string header(const HttpResponse& r, const char* name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// POSTs a JSON document to the Runtime API; true when it was accepted.
bool post(const std::string& url, const std::string& json, const std::string& error_type = "") {
  CurlCall call;
  call.url = url;
  call.body = json;
  call.headers.push_back("Content-Type: application/json");
  if (!error_type.empty())
    call.headers.push_back("Lambda-Runtime-Function-Error-Type: " + error_type);
  CurlOutcome r = perform(call);
  if (!r.status.ok() || r.code != 202) {
    std::fprintf(
        stderr, "covid-etl lambda: POST %s failed: %s\n", url.c_str(),
        r.status.ok() ? ("HTTP " + std::to_string(r.code)).c_str() : r.status.message().c_str());
    return false;
  }
  return true;
}

std::string error_document(const std::string& type, const std::string& message,
                           const nlohmann::json& summary = nullptr) {
  nlohmann::json j = {
      {"errorType", type}, {"errorMessage", message}, {"stackTrace", nlohmann::json::array()}};
  if (!summary.is_null()) j["summary"] = summary;
  return j.dump();
}

// The stage that failed: "validate" -> "covid-etl.ValidateFailed"; a run whose data was
// committed but whose publish failed -> "covid-etl.PublishFailed" (not its error's kind, which
// would say extract or load).
std::string error_type(const RunSummary& summary) {
  std::string stage = summary.stage();
  stage[0] = char(std::toupper(static_cast<unsigned char>(stage[0])));
  return "covid-etl." + stage + "Failed";
}

}  // namespace

int run_lambda_runtime(const std::function<Result<Config>()>& load_config,
                       const AfterRun& after_run) {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  if (api == nullptr || *api == '\0') {
    std::fprintf(
        stderr,
        "covid-etl lambda: AWS_LAMBDA_RUNTIME_API is not set (run this inside AWS Lambda)\n");
    return 64;
  }
  const std::string base = std::string("http://") + api + kApi;
  auto config = load_config();
  if (!config.ok()) {
    post(base + "/init/error", error_document("covid-etl.InitError", config.status().message()),
         "covid-etl.InitError");
    std::fprintf(stderr, "covid-etl lambda: %s\n", config.status().message().c_str());
    return exit_code(config.status().kind());
  }

  CurlHttpClient http;
  SystemClock clock;
  int failures_in_a_row = 0;
  for (;;) {
    HttpRequest next;
    next.url = base + "/invocation/next";
    next.timeout = std::chrono::hours(24);  // a long poll: it answers when there is work
    StringSink event;
    HttpResult r = http.get(next, event);
    if (!r.status.ok() || r.response.status != 200) {
      // The Runtime API is gone (the environment is being shut down) or broken: stop after a few
      // tries.
      if (++failures_in_a_row >= 3) {
        std::fprintf(stderr, "covid-etl lambda: the Runtime API does not answer; exiting\n");
        return 3;
      }
      clock.sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    failures_in_a_row = 0;
    std::string id = header(r.response, "lambda-runtime-aws-request-id");
    if (id.empty()) continue;
    if (std::string trace = header(r.response, "lambda-runtime-trace-id"); !trace.empty()) {
      setenv("_X_AMZN_TRACE_ID", trace.c_str(), 1);
    }
    // Each invocation is one run: it opens the store once and hands it to the run.
    RunSummary summary;
    if (auto store = open_store(config->db, run_store_options(*config, false)); store.ok()) {
      summary = run_etl(*config, **store, http, clock, RunOptions{});
      if (after_run) after_run(*config, **store, clock, summary);
    } else {
      summary = run_etl_unopened(*config, store.status(), http, clock, RunOptions{});
    }
    nlohmann::json doc = to_json(summary);
    std::fprintf(stderr, "covid-etl lambda: invocation %s: %s\n", id.c_str(),
                 to_text(summary).c_str());
    if (summary.status == RunStatus::kFailed) {
      std::string type = error_type(summary);
      post(base + "/invocation/" + id + "/error",
           error_document(type, summary.failure.message(), doc), type);
    } else {
      post(base + "/invocation/" + id + "/response", doc.dump());
    }
  }
}

}  // namespace covid
