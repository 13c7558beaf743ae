# Warnings for our own code only (third-party headers come in as -isystem).
add_library(osprey_warnings INTERFACE)
target_compile_options(osprey_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wnon-virtual-dtor -Wimplicit-fallthrough)
if(OSPREY_WERROR)
  target_compile_options(osprey_warnings INTERFACE -Werror)
endif()
if(OSPREY_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
