// Prints what the dispatcher picks on this (possibly emulated) CPU, straight
// from the public API; the aarch64 and x86-emulated stages compare the line.
#include <simdsoftmax/simdsoftmax.hpp>

#include <cstdio>
#include <string>

int main() {
  std::string avail;
  for (auto isa : simdsoftmax::available_isas())
    avail += (avail.empty() ? "" : ",") + std::string(simdsoftmax::to_string(isa));
  std::printf("active_isa()=%s available=%s\n",
              std::string(simdsoftmax::to_string(simdsoftmax::active_isa())).c_str(), avail.c_str());
}
