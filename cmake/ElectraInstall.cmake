include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS electra electra_text EXPORT electraTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The SentencePiece shim goes beside libelectra_text, where electra_text looks for it.
install(TARGETS electra_spm_shim LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/electra DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT electraTargets NAMESPACE electra:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/electra)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/electraConfig.cmake.in
  ${CMAKE_BINARY_DIR}/electraConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/electra)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/electraConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/electraConfig.cmake ${CMAKE_BINARY_DIR}/electraConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/electra)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs DESTINATION ${CMAKE_INSTALL_DATADIR}/electra)
