// FHIR AdverseEvent (R4 or R5) in: a transfusion reaction reported by a
// hospital -> one TransfusionReaction event. Pure, like connectors/fhir.h:
// the body, the lab mapping and the time it was received in, the event or the
// failure out. Safe from any thread.
//
//   MappingResult r = fhir::map_adverse_event(body, mapping, received_at);
//
// What is read (every failure names the element, e.g. "AdverseEvent.subject"):
//   resourceType  "AdverseEvent" (else wrong_resource_type)
//   id            required, for the event id fhir-<facility>-<id>[-<versionId>]
//   actuality     "actual" (R4/R5); "potential" (a near miss) is refused:
//                 it is not a reaction
//   event (R4) or code (R5) .coding[].code: the ISBT category, hemoledger's
//                 names (trali, taco, febrile, ...; events/haemovigilance.h)
//   subject.reference "Patient/<pseudonymous id>" (or subject.identifier.value)
//   suspectEntity[0].instance (R4) or .instanceReference (R5) .reference
//                 "BiologicallyDerivedProduct/<din>-<product>", the id that
//                 GET /api/fhir/BiologicallyDerivedProduct gives a unit
//   severity      hemoledger's names in severity (R4) or seriousness .coding[]
//                 .code (non_severe, severe, life_threatening, death); R4's
//                 mild and moderate read as non_severe; an outcome "fatal"
//                 (R4 outcome, R5 outcome[]) as death
//   imputability  suspectEntity[0].causality[0].assessment (R4) or
//                 .entityRelatedness (R5) .coding[].code: hemoledger's names,
//                 or WHO-UMC terms (certain, probable/likely, possible,
//                 unlikely, unassessable/unclassifiable -> not_assessable)
//   onset         date (R4), occurrenceDateTime (R5), else detected
//   at            recordedDate, else received_at
//   facility      location.reference "Location/<code>" through the mapping's
//                 facility codes, else fhir.facility of the mapping
//   note[0].text  the reason (a description, at most 200 characters)
#pragma once

#include <string_view>

#include "connectors/lab_mapping.h"

namespace hemoledger::fhir {

[[nodiscard]] MappingResult map_adverse_event(std::string_view json_text, const LabMapping& mapping,
                                              TimeMs received_at);

}  // namespace hemoledger::fhir
