# osprey_add_test(<source.cc> LIBS <targets...> [LABELS <labels...>])
# Builds one gtest executable named after the source file and registers its cases with CTest.
function(osprey_add_test source)
  if(NOT OSPREY_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "LIBS;LABELS" ${ARGN})
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} osprey_warnings GTest::gtest GTest::gtest_main)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  include(GoogleTest)
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${ARG_LABELS}"
               ENVIRONMENT "OSPREY_SHARED_DIR=${OSPREY_SHARED_DIR}"
    DISCOVERY_TIMEOUT 60)
endfunction()
