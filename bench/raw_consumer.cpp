#include "bench/raw_consumer.h"

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <vector>

namespace hemoledger::bench {

RawConsumer::RawConsumer(const std::string& brokers, const std::string& topic,
                         const std::string& group) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  // The engine's consumer settings (engine/kafka/kafka.cpp, Consumer::create).
  const std::map<std::string, std::string> settings = {
      {"bootstrap.servers", brokers},
      {"client.id", "hemoledger-bench"},
      {"group.id", group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "500"},
      {"fetch.wait.max.ms", "100"},
  };
  for (const auto& [k, v] : settings) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) throw std::runtime_error(k + ": " + err);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw std::runtime_error("cannot create a consumer: " + err);
  if (auto e = consumer_->subscribe({topic}); e != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("subscribe: " + RdKafka::err2str(e));
  }
}

RawConsumer::~RawConsumer() {
  if (consumer_) consumer_->close();
}

void RawConsumer::wait_assigned(int partitions) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < end) {
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(100));
    std::vector<RdKafka::TopicPartition*> tps;
    consumer_->assignment(tps);
    const auto n = tps.size();
    RdKafka::TopicPartition::destroy(tps);
    if (static_cast<int>(n) == partitions) return;
  }
  throw std::runtime_error("the consumer was not assigned its partitions within 30 s");
}

void RawConsumer::pause() {
  std::vector<RdKafka::TopicPartition*> tps;
  consumer_->assignment(tps);
  consumer_->pause(tps);
  RdKafka::TopicPartition::destroy(tps);
}

void RawConsumer::resume() {
  std::vector<RdKafka::TopicPartition*> tps;
  consumer_->assignment(tps);
  consumer_->resume(tps);
  RdKafka::TopicPartition::destroy(tps);
}

std::size_t RawConsumer::poll(std::size_t max, int wait_ms,
                              const std::function<void(const RdKafka::Message&)>& visit) {
  std::size_t n = 0;
  int timeout = wait_ms;
  while (n < max) {
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(timeout));
    timeout = 0;
    const auto err = m->err();
    if (err == RdKafka::ERR__TIMED_OUT || err == RdKafka::ERR__PARTITION_EOF) break;
    if (err != RdKafka::ERR_NO_ERROR) {
      if (err == RdKafka::ERR__FATAL) throw std::runtime_error(m->errstr());
      break;
    }
    visit(*m);
    ++n;
  }
  return n;
}

}  // namespace hemoledger::bench
