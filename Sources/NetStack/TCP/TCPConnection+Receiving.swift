extension TCPConnection {
    /// Processes one segment for this connection.
    func handle(_ segment: TCPSegment, _ stack: NetStack) {
        let sequence = SequenceNumber(segment.sequenceNumber)
        let flags = segment.flags
        switch state {
        case .closed:
            return
        case .awaitingAccept:
            // Retransmitted SYNs wait for the owner's decision; a RST withdraws the request.
            if flags.contains(.rst) { terminate(stack, event: .reset(id)) }
            return
        case .synReceived:
            if flags.contains(.rst) {
                if sequence == rcvNxt { terminate(stack, event: .reset(id)) }
                return
            }
            if flags.contains(.syn) {
                if sequence == irs { sendSynAck(stack) }
                return
            }
            guard flags.contains(.ack) else { return }
            guard segment.acknowledgmentNumber == (iss + 1).rawValue else {
                stack.sendReset(to: self, sequence: segment.acknowledgmentNumber)
                return
            }
            state = .established
            sndUna = iss + 1
            sndWnd = Int(segment.window) << Int(sendScale)
            sndWl1 = sequence
            sndWl2 = sndUna
            if rttProbeEnd != nil && retransmissions == 0 { timer.sample(stack.now &- rttProbeSentAt) }
            rttProbeEnd = nil
            rtoDeadline = nil
            retransmissions = 0
            timer.progressed()
            stack.deliver(.established(id))
            guard state != .closed else { return }
            receive(segment, sequence: sequence, stack)
            guard state != .closed else { return }
            transmit(stack)
            return
        default:
            break
        }

        if flags.contains(.rst) {
            // RFC 5961: only an RST exactly at RCV.NXT resets; one elsewhere in the window
            // gets a challenge ACK.
            if sequence == rcvNxt {
                terminate(stack, event: .reset(id))
            } else if !(sequence < rcvNxt) && sequence < rcvAdvertisedEdge {
                sendAck(stack)
            }
            return
        }
        if flags.contains(.syn) {
            sendAck(stack)  // challenge ACK (RFC 5961 §4)
            return
        }
        guard flags.contains(.ack) else { return }
        processAcknowledgment(segment, sequence: sequence, stack)
        guard state != .closed else { return }
        receive(segment, sequence: sequence, stack)
        guard state != .closed else { return }
        transmit(stack)
    }

    /// Accepts the segment's data and FIN in order, buffering what is early.
    func receive(_ segment: TCPSegment, sequence segmentSequence: SequenceNumber, _ stack: NetStack) {
        var payload = segment.payload
        var sequence = segmentSequence
        var fin = segment.flags.contains(.fin)
        let length = payload.count + (fin ? 1 : 0)
        guard state.receivesData else {
            // The peer's FIN is already in; anything more is a retransmission: re-ACK it.
            if length > 0 { sendAck(stack) }
            return
        }
        if length == 0 {
            // A pure ACK. One outside the window (a zero-window probe sits at RCV.NXT-1) is
            // answered with an ACK that states our current window.
            if sequence != rcvNxt && (sequence < rcvNxt || !(sequence < rcvAdvertisedEdge)) { sendAck(stack) }
            return
        }
        if sequence < rcvNxt {
            let duplicate = rcvNxt - sequence
            if duplicate >= length {
                sendAck(stack)
                return
            }
            payload = UnsafeRawBufferPointer(rebasing: payload[(payload.startIndex + duplicate)...])
            sequence = rcvNxt
        }
        if rcvNxt < sequence {
            stack.statistics.outOfOrderSegments += 1
            if sequence < rcvAdvertisedEdge {
                let room = rcvAdvertisedEdge - sequence
                if payload.count > room {
                    payload = UnsafeRawBufferPointer(rebasing: payload[payload.startIndex..<(payload.startIndex + room)])
                    fin = false
                }
                if !outOfOrder.insert(sequence: sequence, bytes: payload, fin: fin, limit: stack.configuration.outOfOrderLimit) {
                    stack.statistics.outOfOrderDropped += 1
                }
            }
            sendAck(stack)  // a duplicate ACK tells the kernel what is missing
            return
        }
        let room = max(0, rcvAdvertisedEdge - rcvNxt)
        if payload.count > room {
            payload = UnsafeRawBufferPointer(rebasing: payload[payload.startIndex..<(payload.startIndex + room)])
            fin = false
        }
        if payload.isEmpty && !fin {
            sendAck(stack)  // data beyond a closed window, e.g. a one-byte window probe
            return
        }
        let hadGap = !outOfOrder.isEmpty
        if !payload.isEmpty {
            deliver(payload, stack)
            guard state != .closed else { return }
        }
        if hadGap {
            while let entry = outOfOrder.popReady(at: rcvNxt) {
                let skip = rcvNxt - entry.sequence
                if skip < entry.bytes.count {
                    entry.bytes.withUnsafeBytes { deliver(UnsafeRawBufferPointer(rebasing: $0[skip...]), stack) }
                    guard state != .closed else { return }
                }
                if entry.fin && rcvNxt == entry.end { fin = true }
            }
        }
        if fin {
            receiveFin(stack)
            return
        }
        unackedSegments += 1
        if hadGap || unackedSegments >= 2 {
            sendAck(stack)
        } else if ackDeadline == nil {
            ackDeadline = stack.now + stack.configuration.delayedAckTimeout
            stack.ackPending.append(self)
        }
    }

    private func deliver(_ bytes: UnsafeRawBufferPointer, _ stack: NetStack) {
        rcvNxt += bytes.count
        unconsumed += bytes.count
        stack.deliver(.received(id, bytes))
    }

    private func receiveFin(_ stack: NetStack) {
        rcvNxt += 1
        switch state {
        case .established:
            state = .closeWait
            sendAck(stack)
            stack.deliver(.peerClosed(id))
        case .finWait1:
            state = .closing
            sendAck(stack)
            stack.deliver(.peerClosed(id))
        case .finWait2:
            sendAck(stack)
            stack.deliver(.peerClosed(id))
            terminate(stack, event: .closed(id))
        default:
            break
        }
    }
}
