;; The multi-index's partner test, eight postings at a time (WebAssembly SIMD): for each bucket a
;; search visits, the postings whose partner half is within the radius of the query's. Assembled
;; into src/gen/wasm/partnerScan.ts by `npm run wasm`; src/index/levelMemory.ts runs it.
;;
;; Memory is one level's (src/index/levelMemory.ts lays it out): the level's lines and regions, in
;; 16-bit units from byte 0, 16 bytes of slack after them (the last load of a range reads past its
;; end), then the records and the output.
;;
;; A record, 12 bytes: the range's first and end positions (u32, in 16-bit units), the query's partner
;; (u16), the radius (u16). The output: the count of passing postings (u32), then per posting its
;; position and its record's index (u32 each).
(module
  (memory (import "level" "memory") 0)

  ;; Scans records [first, end). Stops early when the next eight postings might not fit in the
  ;; output's `capacity`: the record in progress keeps where it stopped as its first position, and
  ;; its index is returned, from which the caller resumes once it has read the output. Returns `end`
  ;; when done.
  (func (export "scanPartners")
    (param $records i32) (param $first i32) (param $end i32) (param $out i32) (param $capacity i32)
    (result i32)
    (local $record i32) (local $at i32) (local $position i32) (local $stop i32)
    (local $partners v128) (local $radii v128) (local $mask i32) (local $passing i32) (local $pair i32)
    (local.set $record (local.get $first))
    (block $finished
      (loop $nextRecord
        (br_if $finished (i32.ge_u (local.get $record) (local.get $end)))
        (local.set $at (i32.add (local.get $records) (i32.mul (local.get $record) (i32.const 12))))
        (local.set $position (i32.load (local.get $at)))
        (local.set $stop (i32.load offset=4 (local.get $at)))
        (local.set $partners (i16x8.splat (i32.load16_u offset=8 (local.get $at))))
        (local.set $radii (i16x8.splat (i32.load16_u offset=10 (local.get $at))))
        (block $recordDone
          (loop $nextEight
            (br_if $recordDone (i32.ge_u (local.get $position) (local.get $stop)))
            (if (i32.gt_u (i32.add (local.get $passing) (i32.const 8)) (local.get $capacity))
              (then
                (i32.store (local.get $at) (local.get $position))
                (i32.store (local.get $out) (local.get $passing))
                (return (local.get $record))))
            ;; Lane i: whether popcount(partner[position + i] XOR query's partner) <= radius.
            (local.set $mask
              (i16x8.bitmask
                (i16x8.le_u
                  (i16x8.extadd_pairwise_i8x16_u
                    (i8x16.popcnt
                      (v128.xor (v128.load align=2 (i32.shl (local.get $position) (i32.const 1))) (local.get $partners))))
                  (local.get $radii))))
            ;; Lanes past the range's end read whatever follows it (a line's header, id lows, code bits): not postings of this range.
            (if (i32.lt_u (i32.sub (local.get $stop) (local.get $position)) (i32.const 8))
              (then
                (local.set $mask
                  (i32.and (local.get $mask)
                    (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $stop) (local.get $position))) (i32.const 1))))))
            (block $bitsDone
              (loop $nextBit
                (br_if $bitsDone (i32.eqz (local.get $mask)))
                (local.set $pair (i32.add (i32.add (local.get $out) (i32.const 4)) (i32.shl (local.get $passing) (i32.const 3))))
                (i32.store (local.get $pair) (i32.add (local.get $position) (i32.ctz (local.get $mask))))
                (i32.store offset=4 (local.get $pair) (local.get $record))
                (local.set $passing (i32.add (local.get $passing) (i32.const 1)))
                (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
                (br $nextBit)))
            (local.set $position (i32.add (local.get $position) (i32.const 8)))
            (br $nextEight)))
        (local.set $record (i32.add (local.get $record) (i32.const 1)))
        (br $nextRecord)))
    (i32.store (local.get $out) (local.get $passing))
    (local.get $end)))
