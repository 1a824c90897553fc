// FHIR JSON in and out. In: Observation resources (one, or a Bundle of them)
// with typing and screening results -> TestResulted events, through the lab
// mapping. Out: a unit as a BiologicallyDerivedProduct and a facility's stock
// as an InventoryReport snapshot (both shaped after FHIR R5, where these
// resources have the elements DOMAIN.md lists). Pure functions on values: no
// I/O, no clock, safe from any thread.
//
//   MappingResult r = fhir::map_observations(body, mapping, received_at);
//   if (!r.ok()) return http_422(r.error->message);
//   nlohmann::json bdp = fhir::biologically_derived_product(donation, unit, &ref);
//
// Observation in (strict; every failure names the JSON path, e.g.
// "entry[2].resource.code: ..."):
//   resourceType   "Observation", or "Bundle" whose entries are all
//                  Observations (else wrong_resource_type)
//   id             required (or the entry's fullUrl "urn:uuid:..."), for the
//                  event id; meta.versionId is added when present
//   status         final -> recorded; amended and corrected -> recorded with
//                  a new id; preliminary and registered -> not recorded (a
//                  note); cancelled, entered-in-error, unknown -> refused
//   code.coding[]  the first coding whose system and code the mapping knows
//                  (system http://loinc.org or a local system listed in
//                  coding_systems); none known -> unknown_test
//   valueCodeableConcept.coding[].code (then .text) or valueString -> result
//   DIN            fhir.din_from = "specimen": specimen.identifier.value, else
//                  the id of specimen.reference "Specimen/<id>";
//                  "identifier": identifier[] whose system is fhir.din_system
//                  (or the first). Checked like every lab DIN (din_from_lab).
//   effectiveDateTime (RFC 3339 with a time) -> at; else issued; else
//                  received_at
//   facility       fhir.facility of the mapping
//   event id       fhir-<facility>-<id>[-<versionId>][-c]
// All or nothing like the HL7 path; error codes: invalid_json, message_too_large,
// wrong_resource_type, missing_field, unknown_test, unknown_result,
// unknown_status, cannot_retract, bad_datetime, invalid_din/check_failed, ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/lab_mapping.h"
#include "events/blood_group.h"
#include "events/reference_data.h"
#include "projections/unit_state.h"

namespace hemoledger::fhir {

// The code of a body that is not JSON (or nested too deeply to be read):
// answered with the OperationOutcome issue code "structure", not "invalid".
inline constexpr char kInvalidJson[] = "invalid_json";

// Identifier and code systems written by the builders below. They are our
// choice pending a national FHIR implementation guide, and the arcs under the
// ISBT 128 OID (2.16.840.1.113883.6.18) are NOT verified against ICCBBA's
// registry: check them before exchanging with another system.
inline constexpr std::string_view kDinSystem =
    "urn:oid:2.16.840.1.113883.6.18.2.1";  // ISBT 128 DIN
inline constexpr std::string_view kProductCodeSystem = "urn:oid:2.16.840.1.113883.6.18.1.1";
inline constexpr std::string_view kFacilitySystem = "urn:hemoledger:facility";
inline constexpr std::string_view kCategorySystem = "urn:hemoledger:category";
inline constexpr std::string_view kUnitStatusSystem = "urn:hemoledger:unit-status";
inline constexpr std::string_view kStockItemSystem = "urn:hemoledger:stock-item";
inline constexpr std::string_view kCustodySystem = "urn:hemoledger:custody";

// Bodies over kMaxBodyBytes are refused as message_too_large, and bodies
// nested deeper than kMaxBodyDepth as invalid_json, before they are parsed.
inline constexpr std::size_t kMaxBodyBytes = 1 << 20;  // like hl7::ParseOptions::max_bytes
inline constexpr int kMaxBodyDepth = 32;               // a Bundle of Observations needs 7
[[nodiscard]] MappingResult map_observations(std::string_view json_text, const LabMapping& mapping,
                                             TimeMs received_at);

// One unit (DIN + product) as a BiologicallyDerivedProduct:
//   id                     "<din>-<product>"
//   productCategory        cells (red cells, platelets) or fluid (whole
//                          blood, plasma, cryo), system
//                          http://hl7.org/fhir/product-category
//   productCode            the 5-character ISBT 128 product description code
//                          (with the catalogue's description when ref is given)
//   biologicalSourceEvent  the DIN, system kDinSystem
//   division               the product code's last two characters ("00")
//   productStatus          available when the unit is available, else
//                          unavailable (the unit's own status in property)
//   expirationDate         the unit's expiry, RFC 3339
//   collection             collectedDateTime when the donation has one
//   storageTempRequirements  2-6 Cel (red cells, whole blood), 20-24 Cel
//                          (platelets), at most -25 Cel (plasma, cryo; 1-6 Cel
//                          once thawed)
//   property               custody (kCustodySystem, valueString): holder,
//                          issued-by, patient (pseudonymous) and thawed-at
//                          when known; ABO/RhD (aborhd) when known; the status
nlohmann::json biologically_derived_product(const Donation& donation, const UnitState& unit,
                                            const ReferenceData* ref = nullptr);

// One line of a stock view: how many units of a category and group are in a
// status at a location.
struct StockLine {
  std::string location;  // facility code
  Category category = Category::unknown;
  AboRh abo_rh = AboRh::unknown;
  UnitStatus status = UnitStatus::available;
  std::int64_t count = 0;
};

// An InventoryReport with countType snapshot at `at`: one inventoryListing
// per (location, status) in first-seen order, each item with its category,
// quantity {value: count, unit: "unit"} and item code "<category>|<abo_rh>".
nlohmann::json inventory_report(const std::vector<StockLine>& lines, TimeMs at);

}  // namespace hemoledger::fhir
