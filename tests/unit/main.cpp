// The one main() of the unit-test binary; every tests/unit/*.cpp adds cases.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
