// The build's absolute paths, for the integration programs (harness.h). Only this source
// is compiled with them, so the others are the same compile in every checkout.
#include "integration/harness.h"

namespace roster::testing {

const char* const kRosterBinary = ROSTER_BINARY;
const char* const kTestSource = ROSTER_TEST_SOURCE;
const char* const kTestData = ROSTER_TEST_SOURCE "/data";
#ifdef ROSTER_TEST_RESPONSES
const char* const kTestResponses = ROSTER_TEST_RESPONSES;
#else
const char* const kTestResponses = "";
#endif

}  // namespace roster::testing
