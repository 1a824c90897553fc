// RawConsumer: a librdkafka KafkaConsumer with the engine's consumer settings
// (engine/kafka/kafka.cpp), used by the benchmarks that read the events topic
// in-process: the do-nothing ceiling and the PostgreSQL baseline. Unlike
// hemoledger::Consumer it copies nothing out of the message.
//
// Threading: one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace RdKafka {
class KafkaConsumer;
class Message;
}  // namespace RdKafka

namespace hemoledger::bench {

class RawConsumer {
 public:
  // Subscribes to `topic` in group `group`. Throws std::runtime_error on failure.
  RawConsumer(const std::string& brokers, const std::string& topic, const std::string& group);
  ~RawConsumer();
  // Polls until the group has assigned `partitions` partitions (or throws after 30 s).
  void wait_assigned(int partitions);
  // Stops (resumes) fetching on every assigned partition.
  void pause();
  void resume();
  // Consumes up to `max` messages, waiting at most `wait_ms` for the first;
  // calls `visit` for each. Returns how many were consumed. Throws on a fatal error.
  std::size_t poll(std::size_t max, int wait_ms,
                   const std::function<void(const RdKafka::Message&)>& visit);

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
};

}  // namespace hemoledger::bench
