// Class probabilities for a batch of classifier outputs, one row per sample.
#include <simdsoftmax/simdsoftmax.hpp>

#include <iomanip>
#include <iostream>
#include <vector>

int main() {
  const std::size_t batch = 3, classes = 4;
  const std::vector<float> logits = {
      2.0f, 1.0f, 0.1f, -1.0f,  // sample 0
      0.5f, 0.5f, 0.5f, 0.5f,   // sample 1: no preference
      8.0f, -3.0f, 4.0f, 1.0f,  // sample 2
  };
  std::vector<float> probs(batch * classes);

  simdsoftmax::Options options;
  options.temperature = 2.0f;  // > 1 flattens the distribution, < 1 sharpens it
  simdsoftmax::softmax_rows(logits.data(), probs.data(), batch, classes, options);

  std::cout << "kernel: " << simdsoftmax::to_string(simdsoftmax::active_isa()) << '\n'
            << std::fixed << std::setprecision(3);
  for (std::size_t r = 0; r < batch; ++r) {
    std::cout << "sample " << r << ':';
    for (std::size_t c = 0; c < classes; ++c) std::cout << ' ' << probs[r * classes + c];
    std::cout << '\n';
  }
}
