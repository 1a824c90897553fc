#include "engine/kafka/kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace hemoledger {

namespace {

Error kafka_error(std::string what, RdKafka::ErrorCode code) {
  return make_error("kafka_error", what + ": " + RdKafka::err2str(code));
}

// fetch.wait.max.ms for the consumers of `config`'s cluster (KafkaConfig::embedded).
std::string fetch_wait(const KafkaConfig& config) {
  return std::to_string(config.embedded ? kMockFetchWaitMs : kBrokerFetchWaitMs);
}

Result<std::unique_ptr<RdKafka::Conf>> make_conf(const KafkaConfig& config) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const std::string& k, const std::string& v) -> Status {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      return make_error("kafka_config", "Kafka property " + k + ": " + err);
    }
    return {};
  };
  if (auto s = set("bootstrap.servers", config.brokers); !s) return s.error();
  if (auto s = set("client.id", "hemoledger"); !s) return s.error();
  for (const auto& [k, v] : config.properties) {
    if (auto s = set(k, v); !s) return s.error();
  }
  return conf;
}

Record record_of(const RdKafka::Message& m) {
  Record r;
  r.partition = m.partition();
  r.offset = m.offset();
  if (m.key()) r.key = *m.key();
  if (m.payload()) r.value.assign(static_cast<const char*>(m.payload()), m.len());
  const auto ts = m.timestamp();
  r.timestamp =
      ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE ? 0 : ts.timestamp;
  return r;
}

// Up to `max` records, waiting at most `wait_ms` for the first. A fatal
// error fails the call; another ends the batch and, with `problem`, is
// reported there (and logged) until a message arrives again.
Result<std::vector<Record>> poll_records(RdKafka::KafkaConsumer& consumer, std::size_t max,
                                         int wait_ms, std::string* problem) {
  std::vector<Record> out;
  int timeout = wait_ms;
  while (out.size() < max) {
    std::unique_ptr<RdKafka::Message> m(consumer.consume(timeout));
    timeout = 0;
    const auto err = m->err();
    if (err == RdKafka::ERR__TIMED_OUT || err == RdKafka::ERR__PARTITION_EOF) break;
    if (err != RdKafka::ERR_NO_ERROR) {
      const std::string text = "Kafka: " + m->errstr();
      if (problem) *problem = text;
      if (err == RdKafka::ERR__FATAL) return make_error("kafka_fatal", text);
      if (problem) spdlog::warn("kafka: {}", text);
      break;
    }
    if (problem) problem->clear();
    out.push_back(record_of(*m));
  }
  return out;
}

// The partition count of `topic` (0 if the cluster does not know it).
int topic_partition_count(RdKafka::Handle& handle, const std::string& topic, int timeout_ms) {
  std::string err;
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(&handle, topic, nullptr, err));
  if (!t) return 0;
  RdKafka::Metadata* raw = nullptr;
  if (handle.metadata(false, t.get(), &raw, timeout_ms) != RdKafka::ERR_NO_ERROR) return 0;
  std::unique_ptr<RdKafka::Metadata> md(raw);
  for (const auto* tm : *md->topics()) {
    if (tm->topic() == topic && tm->err() == RdKafka::ERR_NO_ERROR) {
      return static_cast<int>(tm->partitions()->size());
    }
  }
  return 0;
}

}  // namespace

// ---------------------------------------------------------------------------
// MockCluster

struct MockCluster::Handle {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* mcluster = nullptr;
  ~Handle() {
    if (mcluster) rd_kafka_mock_cluster_destroy(mcluster);
    if (rk) rd_kafka_destroy(rk);
  }
};

Result<std::unique_ptr<MockCluster>> MockCluster::start(int brokers,
                                                        const std::vector<std::string>& topics,
                                                        int partitions) {
  std::unique_ptr<MockCluster> mc(new MockCluster());
  mc->handle_ = std::make_unique<Handle>();
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  mc->handle_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!mc->handle_->rk) {
    rd_kafka_conf_destroy(conf);
    return make_error("kafka_error", std::string("cannot start the embedded Kafka: ") + err);
  }
  mc->handle_->mcluster = rd_kafka_mock_cluster_new(mc->handle_->rk, brokers);
  if (!mc->handle_->mcluster) {
    return make_error("kafka_error", "cannot start the embedded Kafka mock cluster");
  }
  for (const auto& t : topics) {
    auto e = rd_kafka_mock_topic_create(mc->handle_->mcluster, t.c_str(), partitions,
                                        std::min(brokers, 3));
    if (e) {
      return make_error("kafka_error", "cannot create topic " + t + ": " + rd_kafka_err2str(e));
    }
  }
  mc->bootstrap_ = rd_kafka_mock_cluster_bootstraps(mc->handle_->mcluster);
  return mc;
}

MockCluster::~MockCluster() = default;

void MockCluster::set_broker_down(int broker_id, bool down) {
  if (down)
    rd_kafka_mock_broker_set_down(handle_->mcluster, broker_id);
  else
    rd_kafka_mock_broker_set_up(handle_->mcluster, broker_id);
}

void MockCluster::set_broker_latency(int broker_id, int rtt_ms) {
  rd_kafka_mock_broker_set_rtt(handle_->mcluster, broker_id, rtt_ms);
}

void MockCluster::fail_next_fetches(int count) {
  std::vector<rd_kafka_resp_err_t> errors(static_cast<std::size_t>(std::max(count, 0)),
                                          RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  constexpr std::int16_t kFetch = 1;  // the Fetch API key
  rd_kafka_mock_push_request_errors_array(handle_->mcluster, kFetch, errors.size(), errors.data());
}

void MockCluster::fail_next_produces(int count) {
  std::vector<rd_kafka_resp_err_t> errors(static_cast<std::size_t>(std::max(count, 0)),
                                          RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  constexpr std::int16_t kProduce = 0;  // the Produce API key
  rd_kafka_mock_push_request_errors_array(handle_->mcluster, kProduce, errors.size(),
                                          errors.data());
}

// ---------------------------------------------------------------------------
// Producer

namespace {

// What a message's delivery report goes to (its msg_opaque).
struct Awaited {
  virtual ~Awaited() = default;
  virtual void delivered(const RdKafka::Message& m) = 0;
};

// produce_sync() waits on it; it owns it (or leaks it on purpose after a timeout).
struct Pending : Awaited {
  std::promise<Result<Delivery>> done;
  void delivered(const RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR) {
      done.set_value(kafka_error("Kafka did not accept the message", m.err()));
    } else {
      done.set_value(Delivery{m.partition(), m.offset()});
    }
  }
};

class DeliveryCb : public RdKafka::DeliveryReportCb {
 public:
  explicit DeliveryCb(std::atomic<std::uint64_t>& failures) : failures_(failures) {}
  void dr_cb(RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR) {
      ++failures_;
      spdlog::error("kafka: a message to {} was not delivered: {}", m.topic_name(), m.errstr());
    }
    if (auto* awaited = static_cast<Awaited*>(m.msg_opaque())) awaited->delivered(m);
  }

 private:
  std::atomic<std::uint64_t>& failures_;
};

}  // namespace

// One message counted in a DeliveryTracker; it deletes itself when answered.
struct TrackedMessage : Awaited {
  explicit TrackedMessage(std::shared_ptr<DeliveryTracker> t) : tracker(std::move(t)) {
    ++tracker->outstanding_;
  }
  void delivered(const RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR) ++tracker->failures_;
    --tracker->outstanding_;
    delete this;
  }
  std::shared_ptr<DeliveryTracker> tracker;
};

struct Producer::Impl {
  std::unique_ptr<DeliveryCb> cb;
  std::unique_ptr<RdKafka::Producer> producer;
  std::atomic<bool> stop{false};
  std::thread poller;
  ~Impl() {
    stop = true;
    if (poller.joinable()) poller.join();
  }
};

Result<std::unique_ptr<Producer>> Producer::create(const KafkaConfig& config) {
  std::unique_ptr<Producer> p(new Producer());
  p->impl_ = std::make_unique<Impl>();
  auto conf = make_conf(config);
  if (!conf) return conf.error();
  std::string err;
  p->impl_->cb = std::make_unique<DeliveryCb>(p->failures_);
  if ((*conf)->set("dr_cb", p->impl_->cb.get(), err) != RdKafka::Conf::CONF_OK ||
      (*conf)->set("acks", "all", err) != RdKafka::Conf::CONF_OK ||
      (*conf)->set("enable.idempotence", "true", err) != RdKafka::Conf::CONF_OK ||
      (*conf)->set("linger.ms", "2", err) != RdKafka::Conf::CONF_OK) {
    return make_error("kafka_config", "producer settings: " + err);
  }
  p->impl_->producer.reset(RdKafka::Producer::create(conf->get(), err));
  if (!p->impl_->producer) return make_error("kafka_error", "cannot create a producer: " + err);
  Impl* impl = p->impl_.get();
  impl->poller = std::thread([impl] {
    while (!impl->stop) impl->producer->poll(50);
  });
  return p;
}

Producer::~Producer() {
  if (impl_ && impl_->producer) impl_->producer->flush(2000);
}

Result<Delivery> Producer::produce_sync(const std::string& topic, std::string_view key,
                                        std::string_view value, TimeMs timeout_ms) {
  auto pending = std::make_unique<Pending>();
  auto fut = pending->done.get_future();
  auto err =
      impl_->producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                               const_cast<char*>(value.data()), value.size(), key.data(),
                               key.size(), 0, static_cast<Awaited*>(pending.get()));
  if (err != RdKafka::ERR_NO_ERROR) return kafka_error("Kafka refused the message", err);
  if (fut.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) {
    // The delivery callback still holds the pointer: keep it alive for good.
    (void)pending.release();
    return make_error("kafka_timeout", "Kafka did not confirm the message within " +
                                           std::to_string(timeout_ms) +
                                           " ms; it may or may not have been recorded.");
  }
  return fut.get();
}

Status Producer::enqueue(const std::string& topic, std::int32_t partition, std::string_view key,
                         std::string_view value, void* opaque) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto err = impl_->producer->produce(topic, partition, RdKafka::Producer::RK_MSG_COPY,
                                        const_cast<char*>(value.data()), value.size(), key.data(),
                                        key.size(), 0, opaque);
    if (err == RdKafka::ERR_NO_ERROR) return {};
    if (err != RdKafka::ERR__QUEUE_FULL) return kafka_error("Kafka refused the message", err);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return make_error("kafka_error", "the producer queue stayed full");
}

Status Producer::produce(const std::string& topic, std::string_view key, std::string_view value,
                         const std::shared_ptr<DeliveryTracker>& tracker) {
  return produce_to(topic, RdKafka::Topic::PARTITION_UA, key, value, tracker);
}

Status Producer::produce_to(const std::string& topic, std::int32_t partition, std::string_view key,
                            std::string_view value,
                            const std::shared_ptr<DeliveryTracker>& tracker) {
  if (!tracker) return enqueue(topic, partition, key, value, nullptr);
  auto message = std::make_unique<TrackedMessage>(tracker);
  auto s = enqueue(topic, partition, key, value, static_cast<Awaited*>(message.get()));
  if (!s) {
    --tracker->outstanding_;  // never queued: nothing will answer for it
    return s;
  }
  (void)message.release();  // the delivery report deletes it
  return {};
}

bool Producer::flush(TimeMs timeout_ms) {
  return impl_->producer->flush(static_cast<int>(timeout_ms)) == RdKafka::ERR_NO_ERROR;
}

// ---------------------------------------------------------------------------
// Consumer

namespace {

class Rebalance : public RdKafka::RebalanceCb {
 public:
  Rebalance(Consumer::StartOffsets start, Consumer::Revoked revoked, std::string topic)
      : start_(std::move(start)), revoked_(std::move(revoked)), topic_(std::move(topic)) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    std::vector<std::int32_t> ids;
    for (auto* tp : partitions) ids.push_back(tp->partition());
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      auto offsets = start_(ids);
      for (auto* tp : partitions) {
        auto it = offsets.find(tp->partition());
        tp->set_offset(it == offsets.end() ? RdKafka::Topic::OFFSET_BEGINNING : it->second);
      }
      auto e = consumer->assign(partitions);
      if (e != RdKafka::ERR_NO_ERROR)
        spdlog::error("kafka: assign failed: {}", RdKafka::err2str(e));
      assigned = ids;
      spdlog::info("kafka: assigned {} partition(s) of {}", ids.size(), topic_);
    } else {
      revoked_(ids);
      consumer->unassign();
      assigned.clear();
      spdlog::info("kafka: partitions revoked");
    }
  }

  std::vector<std::int32_t> assigned;

 private:
  Consumer::StartOffsets start_;
  Consumer::Revoked revoked_;
  std::string topic_;
};

}  // namespace

// Client-level errors (all brokers down, authentication, ...) reach a
// KafkaConsumer as events, not as messages; served on the polling thread.
class ErrorEvents : public RdKafka::EventCb {
 public:
  explicit ErrorEvents(std::string& problem) : problem_(problem) {}
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    problem_ = "Kafka: " + RdKafka::err2str(event.err()) +
               (event.str().empty() ? "" : " (" + event.str() + ")");
    spdlog::warn("kafka: {}", problem_);
  }

 private:
  std::string& problem_;
};

struct Consumer::Impl {
  std::unique_ptr<ErrorEvents> errors;
  std::unique_ptr<Rebalance> rebalance;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::string topic;
  bool closed = false;
};

Result<std::unique_ptr<Consumer>> Consumer::create(const KafkaConfig& config, StartOffsets start,
                                                   Revoked revoked) {
  std::unique_ptr<Consumer> c(new Consumer());
  c->impl_ = std::make_unique<Impl>();
  c->impl_->topic = config.events_topic;
  c->impl_->rebalance =
      std::make_unique<Rebalance>(std::move(start), std::move(revoked), config.events_topic);
  auto conf = make_conf(config);
  if (!conf) return conf.error();
  std::string err;
  const std::map<std::string, std::string> settings = {
      {"group.id", config.group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "500"},
      {"fetch.wait.max.ms", fetch_wait(config)},
  };
  for (const auto& [k, v] : settings) {
    if (config.properties.count(k)) continue;  // the operator's value wins
    if ((*conf)->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      return make_error("kafka_config", "consumer setting " + k + ": " + err);
    }
  }
  if ((*conf)->set("rebalance_cb", c->impl_->rebalance.get(), err) != RdKafka::Conf::CONF_OK) {
    return make_error("kafka_config", err);
  }
  c->impl_->errors = std::make_unique<ErrorEvents>(c->problem_);
  if ((*conf)->set("event_cb", c->impl_->errors.get(), err) != RdKafka::Conf::CONF_OK) {
    return make_error("kafka_config", err);
  }
  c->impl_->consumer.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!c->impl_->consumer) return make_error("kafka_error", "cannot create a consumer: " + err);
  auto e = c->impl_->consumer->subscribe({config.events_topic});
  if (e != RdKafka::ERR_NO_ERROR)
    return kafka_error("cannot subscribe to " + config.events_topic, e);
  return c;
}

Consumer::~Consumer() { close(); }

void Consumer::close() {
  if (impl_ && impl_->consumer && !impl_->closed) {
    impl_->consumer->close();
    impl_->closed = true;
  }
}

Result<std::vector<Record>> Consumer::poll_batch(std::size_t max, int wait_ms) {
  return poll_records(*impl_->consumer, max, wait_ms, &problem_);
}

void Consumer::commit_async(const std::map<std::int32_t, std::int64_t>& next_offsets) {
  std::vector<RdKafka::TopicPartition*> tps;
  for (const auto& [p, off] : next_offsets) {
    tps.push_back(RdKafka::TopicPartition::create(impl_->topic, p, off));
  }
  if (!tps.empty()) impl_->consumer->commitAsync(tps);
  RdKafka::TopicPartition::destroy(tps);
}

bool Consumer::probe(int timeout_ms) {
  RdKafka::Metadata* raw = nullptr;
  std::unique_ptr<RdKafka::Topic> none;
  const auto err = impl_->consumer->metadata(false, nullptr, &raw, timeout_ms);
  std::unique_ptr<RdKafka::Metadata> md(raw);
  if (err != RdKafka::ERR_NO_ERROR) return false;
  problem_.clear();
  return true;
}

std::map<std::int32_t, std::int64_t> Consumer::high_watermarks() {
  std::map<std::int32_t, std::int64_t> out;
  for (auto p : impl_->rebalance->assigned) {
    int64_t low = 0, high = 0;
    if (impl_->consumer->get_watermark_offsets(impl_->topic, p, &low, &high) ==
            RdKafka::ERR_NO_ERROR &&
        high >= 0) {
      out[p] = high;
    }
  }
  return out;
}

std::string Consumer::cluster_id(int timeout_ms) { return impl_->consumer->clusterid(timeout_ms); }

bool Consumer::query_watermarks(std::int32_t partition, std::int64_t& low, std::int64_t& high,
                                int timeout_ms) {
  int64_t l = 0, h = 0;
  if (impl_->consumer->query_watermark_offsets(impl_->topic, partition, &l, &h, timeout_ms) !=
      RdKafka::ERR_NO_ERROR) {
    return false;
  }
  low = l;
  high = h;
  return true;
}

int Consumer::partition_count(int timeout_ms) {
  return topic_partition_count(*impl_->consumer, impl_->topic, timeout_ms);
}

// ---------------------------------------------------------------------------
// TopicReader

struct TopicReader::Impl {
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
};

Result<std::unique_ptr<TopicReader>> TopicReader::create(const KafkaConfig& config,
                                                         const std::string& topic, int timeout_ms) {
  std::unique_ptr<TopicReader> r(new TopicReader());
  r->impl_ = std::make_unique<Impl>();
  auto conf = make_conf(config);
  if (!conf) return conf.error();
  std::string err;
  // A group id is required by KafkaConsumer; nothing is ever committed to it.
  const std::map<std::string, std::string> settings = {
      {"group.id", config.group + ".reader"},    {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},     {"enable.partition.eof", "false"},
      {"fetch.wait.max.ms", fetch_wait(config)},
  };
  for (const auto& [k, v] : settings) {
    if ((*conf)->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      return make_error("kafka_config", "reader setting " + k + ": " + err);
    }
  }
  r->impl_->consumer.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!r->impl_->consumer) return make_error("kafka_error", "cannot create a consumer: " + err);
  int partitions = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while ((partitions = topic_partition_count(*r->impl_->consumer, topic, 1000)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (partitions == 0) {
    return make_error("kafka_unavailable", "topic " + topic + " was not found in the cluster");
  }
  std::vector<RdKafka::TopicPartition*> tps;
  for (int p = 0; p < partitions; ++p) {
    tps.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  const auto e = r->impl_->consumer->assign(tps);
  RdKafka::TopicPartition::destroy(tps);
  if (e != RdKafka::ERR_NO_ERROR) return kafka_error("cannot read " + topic, e);
  return r;
}

TopicReader::~TopicReader() {
  if (impl_ && impl_->consumer) impl_->consumer->close();
}

Result<std::vector<Record>> TopicReader::poll_batch(std::size_t max, int wait_ms) {
  return poll_records(*impl_->consumer, max, wait_ms, nullptr);
}

std::int32_t partition_for_key(std::string_view key, std::int32_t partitions) {
  if (partitions <= 0) return -1;
  return rd_kafka_msg_partitioner_consistent_random(nullptr, key.data(), key.size(), partitions,
                                                    nullptr, nullptr);
}

}  // namespace hemoledger
